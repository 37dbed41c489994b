"""The LINE platform: the gateway over the official SDK and the request wire format."""
