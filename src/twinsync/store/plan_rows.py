"""The twin's schedule as every store keeps it: one table of rows ``(kind, key, body)``
(``model.plan_records`` says what each kind holds), written in the transaction of the
change they belong to, and read back whole when the twin starts.

The SQL is written in a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..model.plan_records import KINDS, PlanRow
from .problems import LoadProblems

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_rows (
    kind text NOT NULL,
    key text NOT NULL,
    body {blob} NOT NULL,
    PRIMARY KEY (kind, key)
);
"""
SQLITE_SCHEMA = SCHEMA.format(blob="BLOB")
POSTGRES_SCHEMA = SCHEMA.format(blob="bytea")
SELECT = "SELECT kind, key, body FROM schedule_rows ORDER BY kind, key"


def upsert(executemany: Callable[[str, Sequence[Any]], Any], placeholder: str,
           rows: Sequence[PlanRow], *, blob: str | None = None) -> None:
    """Insert or replace ``rows`` (``blob``: the placeholder of the body, if different)."""
    if not rows:
        return
    p, b = placeholder, blob or placeholder
    executemany(f"INSERT INTO schedule_rows VALUES ({p}, {p}, {b}) ON CONFLICT (kind, key) "
                "DO UPDATE SET body = excluded.body",
                [(kind, key, bytes(body)) for kind, key, body in rows])


def rows_of(records: Iterable[tuple[Any, Any, Any]], problems: LoadProblems) -> list[PlanRow]:
    """Stored rows as the twin reads them; a row of a kind this twinsync does not know is
    skipped and reported, not fatal."""
    rows: list[PlanRow] = []
    for kind, key, body in records:
        if kind not in KINDS:
            problems.report("schedule_rows", f"{kind}:{key}", f"unknown kind {kind!r}")
            continue
        rows.append((str(kind), str(key), bytes(body)))
    return rows
