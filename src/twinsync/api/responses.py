"""A JSON response rendered by orjson (NumPy arrays and scalars included)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from ..store.base import json_dumps as dumps

__all__ = ["JSON", "dumps"]


class JSON(JSONResponse):
    # A JSONResponse, so that FastAPI puts a route's ``response_model`` in the OpenAPI
    # document (it describes only JSON responses); only the rendering is ours.
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
