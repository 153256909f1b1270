"""Twinsync errors as HTTP answers: one JSON shape, ``{"error": reason, "detail": message}``."""

from __future__ import annotations

from fastapi import FastAPI, Request

from ..errors import Conflict, ConnectorError, InvalidInput, NotFound, StoreError, TwinsyncError
from .responses import JSON


def install(app: FastAPI) -> None:
    @app.exception_handler(TwinsyncError)
    async def twinsync_error(request: Request, exc: TwinsyncError) -> JSON:
        status, reason = 500, "error"
        if isinstance(exc, NotFound):
            status, reason = 404, "not_found"
        elif isinstance(exc, Conflict):
            status, reason = 409, "conflict"
        elif isinstance(exc, InvalidInput):
            status, reason = 422, exc.reason
        elif isinstance(exc, ConnectorError):
            status, reason = 422, "connector_error"
        elif isinstance(exc, StoreError):
            status, reason = 503, "store_unavailable"
        return JSON({"error": reason, "detail": str(exc)}, status_code=status)
