"""The error tree of twinsync.

Every error twinsync raises on purpose descends from one root, so callers can catch
``TwinsyncError`` and nothing of a third-party library leaks through: where a library's
exception enters (pint, sqlite3, IfcOpenShell, an MQTT client) it is converted with
``raise … from exc``.

::

    TwinsyncError
    ├── NotFound            an element, sensor, model or connector that does not exist
    ├── Conflict            an operation that contradicts the twin (duplicate id, bad binding)
    │   └── StaleRevision   a write made against a revision that is no longer current (412)
    ├── InvalidInput        input that cannot be used; carries a machine-readable ``reason``
    │   ├── InvalidReading  one reading: unknown sensor, not a number, bad time, bad unit
    │   ├── UnitError       a unit that does not exist or cannot convert to the wanted one
    │   ├── ModelImportError a file that is not a readable IFC model; carries its ``line``
    │   │   └── ImportRefused a readable model whose import would replace another project
    │   │                    or archive too much of the current one, unless forced (409)
    │   ├── ScheduleImportError a schedule file that cannot be read; carries its ``line``
    │   └── UnsupportedMediaType a body of a content type the route does not take (415)
    ├── Forbidden           the caller may not do this (403); carries a ``reason``
    │   └── Unauthenticated no valid token or session came with the request (401)
    ├── StoreError          the store could not do what was asked (disk, connection, schema)
    ├── FailedAfterCommit   the change is committed; what came after (live state, publishing,
    │                       the answer) failed: do not send it again
    ├── Overloaded          the twin cannot take more work now; try again after ``retry_after``
    └── ConnectorError      a source could not be reached or configured
"""

from __future__ import annotations

from typing import Any


class TwinsyncError(Exception):
    """Root of every error twinsync raises on purpose."""


class NotFound(TwinsyncError):
    """Something named by id does not exist."""


class Conflict(TwinsyncError):
    """The operation contradicts the current twin."""


class StaleRevision(Conflict):
    """A write named the revision it was made against (``If-Match``), and the element or
    binding has moved on since; nothing was changed. ``current`` is its revision now."""

    reason = "stale_revision"

    def __init__(self, message: str, current: int) -> None:
        super().__init__(message)
        self.current = current


class InvalidInput(TwinsyncError):
    """Input that cannot be used. ``reason`` is a short, stable, machine-readable code."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class InvalidReading(InvalidInput):
    """One reading that cannot be accepted."""


class UnitError(InvalidInput):
    """A unit that is unknown or cannot be converted to the one wanted."""

    def __init__(self, message: str, reason: str = "bad_unit") -> None:
        super().__init__(message, reason)


class ModelImportError(InvalidInput):
    """A file that is not a readable, supported IFC model. ``line`` is where, when known.
    Nothing of it was imported."""

    def __init__(self, message: str, reason: str = "bad_model", *,
                 line: int | None = None) -> None:
        super().__init__(message, reason)
        self.line = line


class ImportRefused(ModelImportError):
    """A readable model that would replace the twin's model with another project's, or
    archive more of the current model than allowed. Nothing was changed; the same file
    sent again with ``force`` is imported. ``refusals`` says why (a ``reason`` code and
    the figures of each), ``counts`` what the import would do."""

    def __init__(self, message: str, refusals: list[dict[str, Any]],
                 counts: dict[str, int]) -> None:
        super().__init__(message, "import_refused")
        self.refusals = refusals
        self.counts = counts


class ScheduleImportError(InvalidInput):
    """A schedule file (P6 XER) that cannot be read. ``line`` is where, when known.
    Nothing of the file was imported."""

    def __init__(self, message: str, reason: str = "bad_schedule", *,
                 line: int | None = None) -> None:
        super().__init__(message, reason)
        self.line = line


class UnsupportedMediaType(InvalidInput):
    """A body whose content type the route does not read (a JSON route given text/plain)."""

    def __init__(self, message: str, reason: str = "unsupported_media_type") -> None:
        super().__init__(message, reason)


class Forbidden(TwinsyncError):
    """The caller's identity may not do this. ``reason`` is a short, stable code."""

    def __init__(self, message: str, reason: str = "forbidden") -> None:
        super().__init__(message)
        self.reason = reason


class Unauthenticated(Forbidden):
    """No valid token or session: unknown, expired or revoked, or none at all."""

    def __init__(self, message: str = "sign in: send a token as 'Authorization: Bearer …' "
                                      "or a session cookie", reason: str = "unauthenticated"
                 ) -> None:
        super().__init__(message, reason)


class StoreError(TwinsyncError):
    """The store failed."""


class FailedAfterCommit(TwinsyncError):
    """The change was committed (it is durable), then something after the commit failed:
    applying it to live state, publishing it, or building the answer.

    The opposite of ``StoreError``: sending the same input again would store it twice
    (a reading without a sequence number has nothing to be recognised by), and treating it
    as bad input would report stored readings as dead letters. ``result`` is the answer
    when it was built before the failure, else None."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class Overloaded(TwinsyncError):
    """More work is waiting than the twin takes on; nothing of this request was done."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ConnectorError(TwinsyncError):
    """A data source could not be reached or configured."""
