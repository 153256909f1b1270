"""The audit log and the revisions, as every store writes and reads them.

An audit entry says who changed what (the token's name, role and id; the operation and
its target), the values before and after, and when. It is written in the transaction of
the change it records, so a change that did not commit leaves no entry, and one that did
always has its entry, linked into the log's hash chain (``audit_chain``) by the same
transaction. Readings are not audited one by one: the journal holds them.

A revision counts the changes of one element (``element:<id>``) or one sensor's binding
(``binding:<sensor id>``). Its row is never deleted, so a binding removed and made again
goes on from the number it had: an old ``If-Match`` can never match a new binding.

The SQL is written in a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from .problems import LoadProblems
from .rows import dumps

#: The tables both stores create (``BLOB`` is ``bytea`` in PostgreSQL; the key differs).
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id {key},
    time {real} NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    token_id text,
    operation text NOT NULL,
    target text NOT NULL,
    element_id text,
    sensor_id text,
    before {blob} NOT NULL,
    after {blob} NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_element ON audit (element_id, id);
CREATE INDEX IF NOT EXISTS audit_sensor ON audit (sensor_id, id);
CREATE INDEX IF NOT EXISTS audit_token ON audit (token_id, id);
CREATE INDEX IF NOT EXISTS audit_time ON audit (time, id);
CREATE TABLE IF NOT EXISTS revisions (target text PRIMARY KEY, revision bigint NOT NULL);
"""
SQLITE_SCHEMA = SCHEMA.format(key="INTEGER PRIMARY KEY AUTOINCREMENT", real="REAL",
                              blob="BLOB")
POSTGRES_SCHEMA = SCHEMA.format(key="bigserial PRIMARY KEY", real="double precision",
                                blob="bytea")

COLUMNS = "time, actor, role, token_id, operation, target, element_id, sensor_id, before, after"
#: At most this many entries in one page.
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a token's (or a signed-in user's) name, role and id."""

    name: str
    role: str
    token_id: str | None = None


#: Changes the process makes on its own behalf (its configuration, start-up, a command
#: run on the machine): not any token's.
SYSTEM = Actor("twinsync", "system")
#: Changes made with a ``twinsync`` command on the machine (``twinsync token …``).
COMMAND = Actor("twinsync command", "system")


@dataclass(slots=True)
class AuditEntry:
    """One change: ``operation`` on ``target`` by ``actor``, ``before`` → ``after``."""

    operation: str
    target: str
    actor: Actor
    time: float
    before: Any = None
    after: Any = None
    element_id: str | None = None
    sensor_id: str | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time, "operation": self.operation,
                "target": self.target, "element_id": self.element_id,
                "sensor_id": self.sensor_id,
                "by": {"name": self.actor.name, "role": self.actor.role,
                       "token_id": self.actor.token_id},
                "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Entries after ``after`` (an id), oldest first, keeping those that match each filter
    given; page on from the last id."""

    element_id: str | None = None
    sensor_id: str | None = None
    token_id: str | None = None
    since: float | None = None
    until: float | None = None
    after: int = 0
    limit: int = 100
    newest_first: bool = False
    """From the newest down (``after`` is then ignored; ``before`` pages instead)."""
    before: int | None = None


def row_of(entry: AuditEntry) -> tuple[Any, ...]:
    return (entry.time, entry.actor.name, entry.actor.role, entry.actor.token_id,
            entry.operation, entry.target, entry.element_id, entry.sensor_id,
            dumps(entry.before), dumps(entry.after))


def upsert_revisions(execute_many: Any, mark: str, revisions: Mapping[str, int]) -> None:
    """Set each target's revision (``execute_many`` is the cursor's ``executemany``)."""
    if revisions:
        execute_many(f"INSERT INTO revisions VALUES ({mark}, {mark}) ON CONFLICT (target) "
                     "DO UPDATE SET revision = excluded.revision", list(revisions.items()))


def query(mark: str, q: AuditQuery) -> tuple[str, list[object]]:
    """``Store.audit``: the names come from this module, the values go as parameters."""
    where: list[str] = []
    params: list[object] = []
    for column, value in (("element_id", q.element_id), ("sensor_id", q.sensor_id),
                          ("token_id", q.token_id)):
        if value is not None:
            where.append(f"{column} = {mark}")
            params.append(value)
    if q.since is not None:
        where.append(f"time >= {mark}")
        params.append(q.since)
    if q.until is not None:
        where.append(f"time < {mark}")
        params.append(q.until)
    if q.newest_first:
        if q.before is not None:
            where.append(f"id < {mark}")
            params.append(q.before)
        order = "id DESC"
    else:
        where.append(f"id > {mark}")
        params.append(q.after)
        order = "id"
    params.append(max(1, min(q.limit, MAX_PAGE)))
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return (f"SELECT id, {COLUMNS} FROM audit{condition} ORDER BY {order} LIMIT {mark}",
            params)


def entries_of(records: Iterable[Sequence[Any]], problems: LoadProblems) -> list[AuditEntry]:
    """Entries from stored rows; one whose values do not decode is reported and skipped."""
    entries = []
    for (entry_id, time, actor, role, token_id, operation, target, element_id, sensor_id,
         before, after) in records:
        try:
            entries.append(AuditEntry(operation, target, Actor(actor, role, token_id),
                                      float(time), orjson.loads(before), orjson.loads(after),
                                      element_id, sensor_id, int(entry_id)))
        except Exception as exc:  # whatever a damaged row raises: reported, not fatal
            problems.report("audit", entry_id, f"{type(exc).__name__}: {exc}")
    return entries
