"""A JSON response rendered by orjson (NumPy arrays and scalars included)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ..store.base import json_default


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=json_default,
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)
