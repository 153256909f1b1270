"""Twinsync errors as HTTP answers: one JSON shape, ``{"error": reason, "detail": message}``."""

from __future__ import annotations

import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from ..errors import (
    Conflict,
    ConnectorError,
    FailedAfterCommit,
    InvalidInput,
    NotFound,
    Overloaded,
    StoreError,
    TwinsyncError,
)
from .responses import JSON


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSON:
        # A body of the wrong shape or type ("2" for a number) answers in the same form
        # as every other refusal, naming the field.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        detail = f"{where}: {first.get('msg', 'invalid')}" if where else str(exc)
        return JSON({"error": "bad_request", "detail": detail}, status_code=422)

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
        elif isinstance(exc, FailedAfterCommit):
            # Kept, then something after the commit failed: a client that sends the same
            # request again stores readings without sequence numbers twice.
            status, reason = 500, "failed_after_commit"
        elif isinstance(exc, StoreError):
            # Nothing of the request was committed: the same request may simply be sent again.
            return _unavailable("store_unavailable", exc, STORE_RETRY_SECONDS)
        elif isinstance(exc, Overloaded):
            return _unavailable("overloaded", exc, exc.retry_after)
        return JSON({"error": reason, "detail": str(exc)}, status_code=status)


#: When to try again after the store failed: reconnecting takes about this long.
STORE_RETRY_SECONDS = 2.0


def _unavailable(reason: str, exc: Exception, retry_after: float) -> JSON:
    seconds = str(max(1, math.ceil(retry_after)))
    return JSON({"error": reason, "detail": str(exc), "retry_after": float(seconds)},
                status_code=503, headers={"Retry-After": seconds})
