"""Declared site events as every store keeps them: one table of rows ``(id, body)``, the
body the event's JSON (``model.site_events``), written in the transaction of the
declaration or withdrawal with its audit entry, and read back whole when the twin starts.

A withdrawal rewrites the row (its ``withdrawn_at`` set) rather than deleting it: an
upsert sent again writes the same row, so a PostgreSQL commit in doubt has nothing of it
to take back.

The SQL is written in a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson

from ..model.site_events import SiteEvent
from .problems import LoadProblems
from .rows import dumps

SCHEMA = """
CREATE TABLE IF NOT EXISTS site_events (
    id text PRIMARY KEY,
    body {blob} NOT NULL
);
"""
SQLITE_SCHEMA = SCHEMA.format(blob="BLOB")
POSTGRES_SCHEMA = SCHEMA.format(blob="bytea")
SELECT = "SELECT id, body FROM site_events ORDER BY id"


def upsert(
    executemany: Callable[[str, Sequence[Any]], Any],
    placeholder: str,
    events: Sequence[SiteEvent],
    *,
    blob: str | None = None,
) -> None:
    """Insert or replace ``events`` (``blob``: the placeholder of the body, if different)."""
    if not events:
        return
    p, b = placeholder, blob or placeholder
    executemany(
        f"INSERT INTO site_events VALUES ({p}, {b}) ON CONFLICT (id) "
        "DO UPDATE SET body = excluded.body",
        [(event.id, dumps(event.to_dict())) for event in events],
    )


def events_of(records: Iterable[tuple[Any, Any]], problems: LoadProblems) -> list[SiteEvent]:
    """Stored rows as the twin reads them; one that no longer decodes is skipped and
    reported, not fatal."""
    events: list[SiteEvent] = []
    for key, body in records:
        try:
            event = SiteEvent.from_dict(orjson.loads(bytes(body)))
            if event.id != key:
                raise ValueError(f"its body names event {event.id!r}")
        except Exception as exc:  # whatever a damaged body raises: reported, not fatal
            problems.report("site_events", key, f"{type(exc).__name__}: {exc}")
            continue
        events.append(event)
    return events
