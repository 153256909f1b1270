"""Upgrades of stored readings that both stores share.

A journal row is a batch's readings packed back to back, and does not record their width:
a store that moves to a wider row layout rewrites its journal in the upgrade's
transaction (at most a seal's worth of readings). Sealed segments record their width
(``row_bytes``) and are read in place in whatever layout they were written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .tiers import ROW_DTYPE_V3, blob, widened

#: ``execute(query, params)`` of a connection or cursor (SQLite's or psycopg's).
Execute = Callable[..., Any]


def widen_journal(execute: Execute, mark: str) -> int:
    """Rewrite every journal row of the layout before anomaly scores in this one (scores
    NaN); returns how many were rewritten. A row that is not whole readings of the old
    layout is left as it was: opening the store reports it (``reads.journal_rows``)."""
    width = ROW_DTYPE_V3.itemsize
    rewritten = 0
    for journal_id, packed in execute("SELECT id, rows FROM journal ORDER BY id").fetchall():
        if len(packed) % width:
            continue
        execute(f"UPDATE journal SET rows = {mark} WHERE id = {mark}",
                (blob(widened(bytes(packed), width)), journal_id))
        rewritten += 1
    return rewritten
