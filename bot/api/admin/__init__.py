"""The admin API (/api/v1/admin), one module per area, and the console's own routes."""
