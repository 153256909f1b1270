"""Declared site events: a pour, a load step, a heating schedule, named by a person.

Such an event moves the sensors it concerns apart from their peers for reasons of the site,
not of the sensors (a slab's loggers at different depths warm at different rates while the
concrete cures), and the health monitor must not call them drifting meanwhile
(``health/events.py``). An event names elements (every sensor bound to one is concerned,
as the bindings stand at the time) and/or sensors, and a span ``[start, end]``.

This module holds the record and its rules, pure: checking a declaration against the twin,
the default length of a span by kind, and the spans per sensor that the monitor takes.
The service (``service/site_events.py``) runs declarations and withdrawals as transactions.

>>> from .element import Element
>>> from .sensor import Sensor
>>> from .twin import Twin
>>> twin = Twin()
>>> _ = twin.add_element(Element("slab", "IfcSlab"))
>>> event = declared(twin, {"kind": "Pour", "start": 1000.0, "element_ids": ["slab"]},
...                  event_id="e1", time=900.0, by="ana")
>>> event.end - event.start == DEFAULT_HOURS["pour"] * 3600
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ..pipeline.times import parse_time
from . import validate
from .twin import Twin

#: How long an event of a kind lasts when its end is not given (hours, by normalised kind):
#: a pour's hydration heat is over within about three days, a load step settles in one.
DEFAULT_HOURS: dict[str, float] = {"pour": 72.0, "load step": 24.0}
#: No span is longer: a longer one would hide a sensor's real drift for a season.
MAX_SPAN_DAYS = 90.0
#: At most this many elements and this many sensors in one event.
MAX_TARGETS = 1000
MAX_KIND_LENGTH = 64
MAX_NOTE_LENGTH = 2000

_SEPARATORS = re.compile(r"[\s_-]+")


def kind_key(kind: str) -> str:
    """A kind as the defaults are looked up: ``"Load_Step"`` → ``"load step"``."""
    return _SEPARATORS.sub(" ", kind.strip().lower())


@dataclass(slots=True)
class SiteEvent:
    """One declared event; ``withdrawn_at`` is set when it is withdrawn (it is then no
    longer taken into account, and kept)."""

    id: str
    kind: str
    start: float
    end: float
    element_ids: list[str] = field(default_factory=list)
    sensor_ids: list[str] = field(default_factory=list)
    note: str = ""
    declared_at: float = 0.0
    declared_by: str = ""
    withdrawn_at: float | None = None

    @property
    def live(self) -> bool:
        return self.withdrawn_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "element_ids": list(self.element_ids),
            "sensor_ids": list(self.sensor_ids),
            "note": self.note,
            "declared_at": self.declared_at,
            "declared_by": self.declared_by,
            "withdrawn_at": self.withdrawn_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SiteEvent:
        """A stored event; ``InvalidInput`` if it no longer reads."""
        body = validate.mapping(data, "site event")
        withdrawn = body.get("withdrawn_at")
        return cls(
            id=validate.identifier(validate.field(body, "id", "site event"), "id"),
            kind=validate.label(validate.field(body, "kind", "site event"), "kind"),
            start=validate.event_time(validate.field(body, "start", "site event"), "start"),
            end=validate.event_time(validate.field(body, "end", "site event"), "end"),
            element_ids=_ids(body.get("element_ids", []), "element_ids"),
            sensor_ids=_ids(body.get("sensor_ids", []), "sensor_ids"),
            note=validate.text(body.get("note", ""), "note"),
            declared_at=validate.event_time(body.get("declared_at", 0.0), "declared_at"),
            declared_by=validate.text(body.get("declared_by", ""), "declared_by"),
            withdrawn_at=None
            if withdrawn is None
            else validate.event_time(withdrawn, "withdrawn_at"),
        )

    def concerns(self, element_id: str, twin: Twin) -> bool:
        """It names the element, or a sensor bound to it now."""
        if element_id in self.element_ids:
            return True
        return any(
            element_id == getattr(twin.bindings.get(s), "element_id", None) for s in self.sensor_ids
        )

    def overlaps(self, since: float | None, until: float | None) -> bool:
        """Some of ``[start, end]`` lies in ``since`` ≤ t < ``until``."""
        return (since is None or self.end >= since) and (until is None or self.start < until)


def declared(
    twin: Twin, body: Mapping[str, Any], *, event_id: str, time: float, by: str
) -> SiteEvent:
    """A new event from a declaration, checked against the twin: ``InvalidInput`` with a
    reason a client can act on, or the event."""
    kind = _kind(validate.field(dict(body), "kind", "site event"))
    start = _time(body.get("start"), "start")
    if body.get("end") is None:
        hours = DEFAULT_HOURS.get(kind_key(kind))
        if hours is None:
            known = ", ".join(repr(k) for k in DEFAULT_HOURS)
            raise InvalidInput(
                f"an event of kind {validate.shown(kind)} needs an end (only "
                f"{known} have a default length)",
                "end_required",
            )
        end = start + hours * 3600.0
    else:
        end = _time(body["end"], "end")
    if end <= start:
        raise InvalidInput("the end of a site event must come after its start", "bad_span")
    if end - start > MAX_SPAN_DAYS * 86_400.0:
        raise InvalidInput(
            f"a site event lasts at most {MAX_SPAN_DAYS:g} days, not "
            f"{(end - start) / 86_400.0:.1f}: declare each phase on its own",
            "span_too_long",
        )
    element_ids = _ids(body.get("element_ids") or [], "element_ids")
    sensor_ids = _ids(body.get("sensor_ids") or [], "sensor_ids")
    if not element_ids and not sensor_ids:
        raise InvalidInput("a site event names element_ids, sensor_ids or both", "no_target")
    for element_id in element_ids:
        element = twin.elements.get(element_id)
        if element is None or element.archived:
            raise InvalidInput(f"no element {validate.shown(element_id)}", "unknown_element")
    for sensor_id in sensor_ids:
        if sensor_id not in twin.sensors:
            raise InvalidInput(f"no sensor {validate.shown(sensor_id)}", "unknown_sensor")
    note = body.get("note")
    note = "" if note is None else validate.text(note, "note")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(
            f"note has {len(note)} characters; at most {MAX_NOTE_LENGTH}", "bad_text"
        )
    return SiteEvent(
        event_id, kind, start, end, element_ids, sensor_ids, note, declared_at=time, declared_by=by
    )


def spans(
    events: Iterable[SiteEvent], twin: Twin, index: Mapping[str, int]
) -> tuple[list[int], list[float], list[float]]:
    """(rows, starts, ends) for ``HealthMonitor.set_events``: one span per live event and
    concerned sensor that has a row: each sensor it names, and each bound now to an
    element it names."""
    bound: dict[str, list[str]] = {}
    for binding in twin.bindings.values():
        bound.setdefault(binding.element_id, []).append(binding.sensor_id)
    rows: list[int] = []
    starts: list[float] = []
    ends: list[float] = []
    for event in events:
        if not event.live:
            continue
        concerned = dict.fromkeys(event.sensor_ids)
        for element_id in event.element_ids:
            concerned.update(dict.fromkeys(bound.get(element_id, ())))
        for sensor_id in concerned:
            row = index.get(sensor_id)
            if row is not None:
                rows.append(row)
                starts.append(event.start)
                ends.append(event.end)
    return rows, starts, ends


def _kind(value: object) -> str:
    kind = validate.label(value, "kind").strip()
    if not kind:
        raise InvalidInput("kind must not be empty", "bad_text")
    if len(kind) > MAX_KIND_LENGTH:
        raise InvalidInput(
            f"kind has {len(kind)} characters; at most {MAX_KIND_LENGTH}", "bad_text"
        )
    return kind


def _time(value: object, what: str) -> float:
    """ISO 8601 (UTC unless it says) or epoch seconds."""
    if value is None:
        raise InvalidInput(f"a site event needs its {what}", "missing_field")
    try:
        seconds = parse_time(value)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc}", "bad_time") from None
    if not math.isfinite(seconds) or seconds > validate.MAX_ABS_TIME:
        raise InvalidInput(f"{what} {validate.shown(value)} is not a time", "bad_time")
    return seconds


def _ids(value: object, what: str) -> list[str]:
    if not isinstance(value, list | tuple):
        raise InvalidInput(f"{what} must be a list of ids", "bad_id")
    if len(value) > MAX_TARGETS:
        raise InvalidInput(f"{what} names {len(value)}; at most {MAX_TARGETS}", "too_many")
    return list(dict.fromkeys(validate.identifier(v, what) for v in value))
