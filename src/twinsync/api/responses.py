"""A JSON response rendered by orjson (NumPy arrays and scalars included)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ..store.base import json_dumps as dumps

__all__ = ["JSON", "dumps"]


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
