"""GET /openapi.json: the OpenAPI 3.1 document, one module per area beside the routes it describes."""
