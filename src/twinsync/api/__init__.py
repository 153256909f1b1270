"""The HTTP and WebSocket edge of the twin (FastAPI): routes, access, the API contract."""

# The route modules' paths name the ``id`` convertor, which must be registered before any
# of them is compiled: importing the package registers it first.
from . import paths as paths
