"""The list of anomalies marked as expected, standing and withdrawn, a page at a time.

A mark withdrawn in error stays part of the record: who marked what and when, who took it
back, when and why. The monitor keeps both (``AnomalyMonitor.expected`` and
``AnomalyMonitor.withdrawn``, rebuilt at a start from the stored ``anomaly_expected`` and
``anomaly_expected_withdrawn`` events, which are never deleted); this module turns them into
the rows ``GET /api/anomalies/expected`` answers with.

The rows are ordered by sensor, then by when they were marked, then by the mark's id: a
total order that does not depend on the order of replay, so a page's cursor (the key of
its last row, ``after``) names the same place before and after a restart, and a mark
made between two pages never moves a row already read.

>>> from twinsync.analytics.monitor import Expected, Withdrawal
>>> span = Expected("t1", 0.0, 60.0, "pour", "ana", "a1", 5.0)
>>> rows = spans({"t1": [span]}, {}, None, Withdrawn.INCLUDE)
>>> [(row["id"], row["withdrawn_at"]) for row in rows]
[('a1', None)]
>>> sorted(page(rows, limit=1, after=None))      # the last page has no "next"
['expected']
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
from collections.abc import Collection, Mapping, Sequence
from enum import StrEnum
from typing import Any

from ..analytics.monitor import Expected, Withdrawal
from ..errors import InvalidInput

#: The most rows one page holds (the route's ``limit`` is at most this).
MAX_PAGE = 10_000


class Withdrawn(StrEnum):
    """Which marks a listing holds: standing ones (the default), all, or withdrawn ones."""

    EXCLUDE = "exclude"
    INCLUDE = "include"
    ONLY = "only"


def row_of(span: Expected, withdrawal: Withdrawal | None = None) -> dict[str, Any]:
    """One span of a mark as the API shows it; the withdrawal's fields are null while the
    mark stands."""
    return {
        "id": span.id, "sensor_id": span.sensor, "start": span.start, "end": span.end,
        "reason": span.reason, "by": span.by, "marked_at": span.marked_at,
        "withdrawn_at": withdrawal.time if withdrawal else None,
        "withdrawn_by": withdrawal.by if withdrawal else None,
        "withdrawn_reason": withdrawal.reason if withdrawal else None,
    }


def _key(row: Mapping[str, Any]) -> tuple[str, float, str]:
    return (row["sensor_id"], row["marked_at"], row["id"])


def spans(standing: Mapping[str, Sequence[Expected]], withdrawn: Mapping[str, Withdrawal],
          sensors: Collection[str] | None, which: Withdrawn) -> list[dict[str, Any]]:
    """The rows of the marks ``which`` asks for, of ``sensors`` (None: every sensor), in
    the listing's order (see the module)."""
    rows: list[dict[str, Any]] = []
    if which is not Withdrawn.ONLY:
        rows += [row_of(span) for sensor, kept in standing.items()
                 if sensors is None or sensor in sensors for span in kept]
    if which is not Withdrawn.EXCLUDE:
        rows += [row_of(span, gone) for gone in withdrawn.values() for span in gone.spans
                 if sensors is None or span.sensor in sensors]
    return sorted(rows, key=_key)


def page(rows: Sequence[dict[str, Any]], *, limit: int,
         after: str | None) -> dict[str, Any]:
    """At most ``limit`` of ``rows`` (in the listing's order) past the cursor ``after``,
    and ``next``, the cursor of the following page, while more follow. The last page has
    no ``next``: it reads as the whole listing did before the listing was paged."""
    start = 0
    if after is not None:
        key = _cursor_key(after)
        # Rows are sorted by key, and a cursor names the last row a client read: the page
        # goes on from the first row past it, whether or not that row is still there.
        start = bisect.bisect_right(rows, key, key=_key)
    chosen = list(rows[start:start + limit])
    if start + limit < len(rows):
        return {"expected": chosen, "next": cursor(chosen[-1])}
    return {"expected": chosen}


def cursor(row: Mapping[str, Any]) -> str:
    """The opaque cursor naming ``row``'s place in the listing."""
    text = json.dumps([row["sensor_id"], row["marked_at"], row["id"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_key(text: str) -> tuple[str, float, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        sensor, marked_at, mark_id = json.loads(raw)
        if not (isinstance(sensor, str) and isinstance(mark_id, str)
                and isinstance(marked_at, int | float) and not isinstance(marked_at, bool)
                and math.isfinite(marked_at)):
            raise ValueError("not a cursor of this listing")
        return (sensor, float(marked_at), mark_id)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidInput("after: not a cursor this listing gave (its next)",
                           "bad_cursor") from exc
