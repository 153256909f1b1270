"""Twinsync errors as HTTP answers: one JSON shape, ``{"error": reason, "detail": message}``."""

from __future__ import annotations

import math
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ..errors import (
    Conflict,
    ConnectorError,
    FailedAfterCommit,
    Forbidden,
    ImportRefused,
    InvalidInput,
    NotFound,
    Overloaded,
    StaleRevision,
    StoreError,
    TwinsyncError,
    Unauthenticated,
    UnsupportedMediaType,
)
from .rates import RateLimited
from .responses import JSON


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSON:
        # A body of the wrong shape or type ("2" for a number) answers in the same form
        # as every other refusal, naming the field.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        # Named by the field, or the body as a whole; never ``str(exc)``, which quotes
        # the input and the route's source file.
        detail = f"{where or 'body'}: {first.get('msg', 'invalid')}"
        return JSON({"error": "bad_request", "detail": detail}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSON:
        # Raised by FastAPI and Starlette themselves, answered in our shape too: a body
        # FastAPI could not read (not UTF-8) is refused as a body that is not JSON is,
        # and a static file that is not there is not_found.
        if exc.status_code == 400:
            return JSON({"error": "bad_request", "detail": f"body: {exc.detail}"},
                        status_code=422)
        reason = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return JSON({"error": reason, "detail": str(exc.detail)}, status_code=exc.status_code,
                    headers=exc.headers)

    @app.exception_handler(TwinsyncError)
    async def twinsync_error(request: Request, exc: TwinsyncError) -> Response:
        status, reason = 500, "error"
        if isinstance(exc, Forbidden):
            return refusal(exc)
        if isinstance(exc, NotFound):
            status, reason = 404, "not_found"
        elif isinstance(exc, StaleRevision):
            # The revision it is at now, as a GET would give it, so a client may re-read.
            return JSON({"error": exc.reason, "detail": str(exc)}, status_code=412,
                        headers={"ETag": f'"{exc.current}"'})
        elif isinstance(exc, Conflict):
            # A conflict with a reason of its own says which (a measurement id reused).
            status, reason = 409, getattr(exc, "reason", "conflict")
        elif isinstance(exc, ImportRefused):
            # A readable file that contradicts the twin's model: a conflict, with the
            # figures a person needs to decide whether to send it again with force=1.
            return JSON({"error": exc.reason, "detail": str(exc), "refusals": exc.refusals,
                         "counts": exc.counts}, status_code=409)
        elif isinstance(exc, UnsupportedMediaType):
            status, reason = 415, exc.reason
        elif isinstance(exc, InvalidInput):
            line = getattr(exc, "line", None)
            if line is not None:
                # A refused file (an IFC model): the line it was refused at, for an editor.
                return JSON({"error": exc.reason, "detail": str(exc), "line": line},
                            status_code=422)
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


def refusal(exc: Forbidden) -> JSON:
    """401 for no valid identity (with the scheme to use), 403 for one not allowed."""
    if isinstance(exc, Unauthenticated):
        return JSON({"error": exc.reason, "detail": str(exc)}, status_code=401,
                    headers={"WWW-Authenticate": "Bearer"})
    return JSON({"error": exc.reason, "detail": str(exc)}, status_code=403)


def rate_limited(exc: RateLimited) -> JSON:
    """429 with the whole seconds to wait."""
    return JSON({"error": "rate_limited", "detail": str(exc)}, status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(exc.wait)))})


def unsupported(exc: UnsupportedMediaType) -> JSON:
    return JSON({"error": exc.reason, "detail": str(exc)}, status_code=415)


#: When to try again after the store failed: reconnecting takes about this long.
STORE_RETRY_SECONDS = 2.0


def _unavailable(reason: str, exc: Exception, retry_after: float) -> JSON:
    seconds = str(max(1, math.ceil(retry_after)))
    return JSON({"error": reason, "detail": str(exc), "retry_after": float(seconds)},
                status_code=503, headers={"Retry-After": seconds})
