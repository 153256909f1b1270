"""The API's contract: pydantic models of what each route reads and answers.

They describe the wire format for the OpenAPI document (``/openapi.json``) and the
clients generated from it; they change nothing on the wire. The routes still answer with
``api.responses.JSON`` (orjson), which FastAPI sends as it is, so a model here costs a
request nothing: it is read once, when the document is built. ``tests/api/
test_contract.py`` checks the app's answers against the document, and schemathesis checks
it against the live app (``tests/api/test_schemathesis.py``).
"""

from __future__ import annotations

from .common import ErrorOut, Event, EventList

__all__ = ["ErrorOut", "Event", "EventList"]
