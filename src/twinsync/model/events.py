"""Events: the record of every change to the twin, in the order it happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Event:
    """One change. ``seq`` is assigned by the store when the event is committed."""

    kind: str
    time: float
    element_id: str | None = None
    source: str = "manual"
    data: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            "element_id": self.element_id,
            "source": self.source,
            "data": self.data,
        }
