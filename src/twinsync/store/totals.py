"""Running totals kept in the store, in the transaction of what they count.

A count held only in memory and saved now and then is wrong after a crash: the readings
and dead letters of the last minutes are in the store, their counts are not. So every
commit adds what its batch counts (accepted, duplicates, late, stale, lost, quarantined,
out of range: ``Pipeline.counts_of``) to one ``totals`` row per name, and every insert of
dead letters adds ``dead_letters``, in the same transaction: a total is exactly as durable
as what it counts. ``dead_letters`` also counts letters the retention pass has since
deleted; ``counts()["dead_letters"]`` is what is still there.

The cost is one upsert per name a batch changes (a handful), whatever the batch's size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .dead_letters import Execute

DEAD_LETTERS = "dead_letters"
"""The total of dead letters ever written, kept by the store itself."""


def add(execute: Execute, mark: str, counts: Mapping[str, int]) -> None:
    """Add ``counts`` to the totals; ``mark`` is the driver's placeholder (``?``, ``%s``)."""
    for name, value in counts.items():
        if value:
            execute(f"INSERT INTO totals (name, value) VALUES ({mark}, {mark}) "
                    "ON CONFLICT (name) DO UPDATE SET value = totals.value + excluded.value",
                    (name, int(value)))


def taken_back(counts: Mapping[str, int]) -> dict[str, int]:
    """What undoes ``add(counts)``: for a commit reported failed that happened after all."""
    return {name: -int(value) for name, value in counts.items() if value}


def totals_of(rows: Iterable[tuple[Any, Any]]) -> dict[str, int]:
    return {str(name): int(value) for name, value in rows}
