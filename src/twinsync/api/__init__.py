"""The HTTP and WebSocket edge of the twin (FastAPI): routes, access, the API contract."""
