"""Reading times: what sources send, turned into seconds since the Unix epoch (UTC).

Numbers are seconds; numbers above 10^11 (the year 5138 in seconds) are taken as
milliseconds, which is what most devices send. Strings are ISO 8601; a string without a
zone is UTC.

>>> parse_time("2026-01-01T00:00:00Z")
1767225600.0
>>> parse_time(1767225600000)
1767225600.0
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidReading

_MS_THRESHOLD = 1e11


def parse_time(value: Any) -> float:
    """Seconds since the epoch, or InvalidReading with reason ``bad_time``."""
    kind = type(value)
    if kind is float or kind is int:
        seconds = float(value)
    elif kind is str:
        seconds = _parse_iso(value)
    else:
        raise InvalidReading(f"time {value!r} is neither a number nor an ISO 8601 string",
                             "bad_time")
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise InvalidReading(f"time {value!r} is not finite", "bad_time")
    if seconds > _MS_THRESHOLD and kind is not str:
        # Only a number may be milliseconds: an ISO date says its own year, and one past
        # ~5138 is a typo to refuse, not a time in 1978.
        seconds /= 1000.0
    if seconds < 0:
        raise InvalidReading(f"time {value!r} is before 1970", "bad_time")
    return seconds


def _parse_iso(text: str) -> float:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidReading(f"time {text!r} is not ISO 8601", "bad_time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(seconds: float) -> str:
    """ISO 8601 in UTC with milliseconds, for the API."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
