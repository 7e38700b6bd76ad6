"""The REST API under /api/v1: routers translate HTTP to service calls and back, nothing more."""
