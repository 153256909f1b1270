"""Stored rows a store could not use when it read them back, reported instead of raised.

Start-up must never fail on one bad stored row (a body that no longer decodes, a NaN gain
saved as null, an element whose dict no longer validates, a summary that is not finite):
the store skips the row, logs it once, and keeps it in ``load_problems()`` for the
service's health and for whoever repairs the data. The row itself stays where it is.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Problems kept for ``load_problems()``; past this only the count grows.
MAX_PROBLEMS = 1000


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """One stored row skipped on reading: where it is and why it could not be used."""

    table: str
    key: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"table": self.table, "key": self.key, "reason": self.reason}


class LoadProblems:
    """The problems a store met, each (table, key) once, bounded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], LoadProblem] = {}
        self.count = 0

    def report(self, table: str, key: object, reason: str) -> None:
        problem = LoadProblem(table, str(key)[:200], reason[:500])
        with self._lock:
            if (problem.table, problem.key) in self._seen:
                return
            self.count += 1
            if len(self._seen) < MAX_PROBLEMS:
                self._seen[(problem.table, problem.key)] = problem
        log.warning("stored %s row %s skipped: %s", table, problem.key, problem.reason)

    def all(self) -> list[LoadProblem]:
        with self._lock:
            return list(self._seen.values())
