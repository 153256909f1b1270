"""Revisions of elements and bindings, for optimistic concurrency.

Every change of an element (its status, properties, identity from a model) or of a
sensor's binding adds one to its revision. The new numbers are proposed with the change,
committed in its transaction (``store.audit``) and taken into memory only once it has
committed. A write may name the revision it was made against (``If-Match``, or the
WebSocket ``update``'s ``revision``); the check runs on the writer, in the transaction,
so of two writers that read the same revision exactly one wins and the other is refused
with ``StaleRevision`` having changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import StaleRevision
from .commit import Change


def element_key(element_id: str) -> str:
    return f"element:{element_id}"


def binding_key(sensor_id: str) -> str:
    return f"binding:{sensor_id}"


@dataclass(frozen=True, slots=True)
class Match:
    """What a write was made against: one of ``revisions``, or anything that exists."""

    revisions: frozenset[int] = frozenset()
    any: bool = False

    @classmethod
    def of(cls, revision: int) -> Match:
        return cls(frozenset({revision}))

    def matches(self, current: int, exists: bool) -> bool:
        return exists and (self.any or current in self.revisions)


class Revisions:
    """The revision of every element and binding, as committed."""

    def __init__(self, stored: Mapping[str, int]) -> None:
        self._of = dict(stored)

    def element(self, element_id: str) -> int:
        return self._of.get(element_key(element_id), 0)

    def binding(self, sensor_id: str) -> int:
        return self._of.get(binding_key(sensor_id), 0)

    def require(self, key: str, match: Match | None, *, exists: bool, what: str) -> None:
        """Refuse a write made against another revision than the current one."""
        if match is None:
            return
        current = self._of.get(key, 0)
        if not match.matches(current, exists):
            wanted = "any" if match.any else ", ".join(str(r) for r in sorted(match.revisions))
            state = f"is at revision {current}" if exists else "does not exist"
            raise StaleRevision(f"{what} {state}, not {wanted}: read it again and retry",
                                current)

    def bumped(self, change: Change) -> dict[str, int]:
        """The revisions a proposed change will leave, one more for each thing it touches."""
        keys: Iterable[str] = [*(element_key(e.id) for e in change.elements),
                               *(binding_key(b.sensor_id) for b in change.bindings),
                               *(binding_key(s) for s in change.unbound)]
        return {key: self._of.get(key, 0) + 1 for key in dict.fromkeys(keys)}

    def apply(self, committed: Mapping[str, int]) -> None:
        self._of.update(committed)
