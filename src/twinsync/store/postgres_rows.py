"""Events, dead letters and audit entries into the PostgreSQL store: one pipelined round
trip a kind, each row's new key read back, and what to take back of a write whose lost
COMMIT turns out to have happened (``InDoubt``). Their encoding is the one every store
shares (``rows``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ..model import Event
from ..pipeline import DeadLetter
from . import audit_chain, event_keys, totals
from .audit import AuditEntry
from .dead_letters import DeadLetterLimits, stored_row
from .postgres_schema import Connection
from .rows import dumps


def insert_events(cursor: psycopg.Cursor[Any], events: Sequence[Event]) -> None:
    if not events:
        return
    # One round trip for all of them (pipelined); each result set holds one new seq.
    cursor.executemany(
        "INSERT INTO events (kind, time, element_id, source, data) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING seq",
        [(e.kind, e.time, e.element_id, e.source, dumps(e.data)) for e in events],
        returning=True)
    for event in events:
        event.seq = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()
    event_keys.insert(cursor.executemany, "%s", events)


def insert_dead_letters(cursor: psycopg.Cursor[Any], dead_letters: Sequence[DeadLetter],
                        limits: DeadLetterLimits) -> None:
    if not dead_letters:
        return
    cursor.executemany(
        "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
        "VALUES (%s, %s, %s, %s, %b) RETURNING id",
        [stored_row(d, limits) for d in dead_letters], returning=True)
    for letter in dead_letters:
        letter.id = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.nextset()



def insert_audit(cursor: psycopg.Cursor[Any], entries: Sequence[AuditEntry]) -> None:
    """At the head of the audit chain, whose row stays locked until the commit."""
    audit_chain.append(cursor, "%s", entries)


@dataclass(slots=True)
class InDoubt:
    """The rows a write added, to take back should its lost COMMIT turn out to have
    happened: the caller was told it failed, and will send the same batch again. A
    twin change's upserts are not taken back; sent again, they write the same rows."""

    journal_id: int | None = None
    letter_ids: list[int] = field(default_factory=list)
    event_seqs: list[int] = field(default_factory=list)
    xid: str = ""
    added: dict[str, int] = field(default_factory=dict)
    """What the write added to the running totals."""
    audit_ids: list[int] = field(default_factory=list)

    def take_back(self, c: Connection) -> None:
        if self.journal_id is not None:
            c.execute("DELETE FROM journal WHERE id = %s", (self.journal_id,))
        c.execute("DELETE FROM dead_letters WHERE id = ANY(%s)", (self.letter_ids,))
        c.execute("DELETE FROM events WHERE seq = ANY(%s)", (self.event_seqs,))
        # A key left pointing at a taken-back event would hide the measurement sent again
        # (its key kept the first) and let a third sending record it once more.
        c.execute("DELETE FROM event_keys WHERE seq = ANY(%s)", (self.event_seqs,))
        # Taken out of the audit chain, and the entries written since linked anew.
        audit_chain.relink(c.execute, "%s", self.audit_ids)
        totals.add(c.execute, "%s", totals.taken_back(self.added))
