"""What the payload decoder hands back: readings, where each came from, and rejects.

Shared by the JSON decoder (``payloads.py``) and the SenML one (``senml.py``), so neither
imports the other for its result types. ``DecodeLimits`` bounds what one payload may hold;
``twinsync.api.limits`` fills it from the settings, connectors use the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..model import validate
from ..pipeline import RawReading

MAX_READINGS = 50_000
"""Readings (array elements, SenML records) one payload may hold."""
# Characters of a sensor id: the twin's own bound on ids (a longer one could name no
# sensor); a reading with a longer one is refused, never echoed whole.
MAX_ID_LENGTH = validate.MAX_ID_LENGTH
MAX_TEXT_LENGTH = 256
"""Characters of a unit or a time written as text."""


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on one payload; past them its parts become rejects, never errors."""

    max_readings: int = MAX_READINGS
    max_id_length: int = MAX_ID_LENGTH
    max_text_length: int = MAX_TEXT_LENGTH


DEFAULT_LIMITS = DecodeLimits()


class Reject(NamedTuple):
    """Part of a payload that could not be decoded: a dead letter once the source is known.

    ``position`` is the item's position in the payload (array element, SenML record; 0 for a
    single object) and None when the payload as a whole could not be used.
    """

    reason: str
    detail: str
    payload: Any
    position: int | None = None


@dataclass(slots=True)
class Decoded:
    """One payload decoded: every item is a reading, a reject, or a SenML header.

    ``positions[i]`` is the item that ``readings[i]`` came from. ``headers`` counts SenML
    records of base fields only that a later record of the pack used: they are the
    context of those readings, not readings of their own. ``items`` is how many items the
    payload held (1 for a single object or number, 0 when it could not be read at all).
    """

    readings: list[RawReading] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    headers: int = 0
    items: int = 0

    def add(self, reading: RawReading, position: int) -> None:
        self.readings.append(reading)
        self.positions.append(position)

