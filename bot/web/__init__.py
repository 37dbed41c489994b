"""Routes LINE and browsers call: the webhook, staff pages, QR images, terms, API docs."""
