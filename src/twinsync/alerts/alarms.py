"""Alarms with a lifecycle: raised, acknowledged, cleared.

An alarm is keyed by what it is about (``health:<sensor>``, ``latency:<source>``), so a
condition that persists is one alarm, not one per reading. Raising an active alarm again
only updates its message and severity; clearing it ends it; acknowledging records that a
person has seen it. Every transition is an ``Event`` for the store and the subscribers.

>>> book = AlarmBook()
>>> book.raise_("health:t1", "warning", "t1 is stuck", element_id="slab", time=1.0).kind
'alarm_raised'
>>> book.raise_("health:t1", "warning", "t1 is stuck", time=2.0) is None
True
>>> book.clear("health:t1", "t1 is ok again", time=3.0).kind
'alarm_cleared'
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Conflict, InvalidInput, NotFound
from ..model import Event

log = logging.getLogger(__name__)

SEVERITIES = ("info", "warning", "critical")


class AlreadyAcknowledged(Conflict):
    """An alarm acknowledged once already (409): the first acknowledgement stands."""

    reason = "already_acknowledged"


@dataclass(frozen=True, slots=True)
class Alarm:
    key: str
    severity: str
    message: str
    raised_at: float
    element_id: str | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str | None = None
    updated_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "severity": self.severity, "message": self.message,
                "raised_at": self.raised_at, "element_id": self.element_id,
                "acknowledged_at": self.acknowledged_at, "acknowledged_by": self.acknowledged_by,
                "updated_at": self.updated_at}


class AlarmBook:
    """The active alarms. Pure: the caller commits and publishes the events."""

    def __init__(self) -> None:
        self.active: dict[str, Alarm] = {}

    def savepoint(self) -> dict[str, Alarm]:
        """The active alarms as they are, for ``rollback`` if their events are not
        committed. A change replaces an alarm, never changes it in place, so a copy of the
        mapping is enough: the reading path takes one a batch, and copying every alarm
        (tens of thousands when a large fleet is alarmed) cost more than the batch."""
        return dict(self.active)

    def rollback(self, saved: dict[str, Alarm]) -> None:
        self.active = dict(saved)

    def raise_(self, key: str, severity: str, message: str, *, element_id: str | None = None,
               time: float) -> Event | None:
        if severity not in SEVERITIES:
            raise InvalidInput(f"severity {severity!r} is not one of {SEVERITIES}", "bad_severity")
        alarm = self.active.get(key)
        if alarm is not None:
            changed = alarm.severity != severity
            alarm = replace(alarm, severity=severity, message=message, updated_at=time)
            self.active[key] = alarm
            if not changed:
                return None
            return Event("alarm_updated", time, element_id, "twinsync", alarm.to_dict())
        alarm = Alarm(key, severity, message, time, element_id, updated_at=time)
        self.active[key] = alarm
        return Event("alarm_raised", time, element_id, "twinsync", alarm.to_dict())

    def clear(self, key: str, message: str, *, time: float) -> Event | None:
        alarm = self.active.pop(key, None)
        if alarm is None:
            return None
        data = alarm.to_dict() | {"cleared_at": time, "clear_message": message}
        return Event("alarm_cleared", time, alarm.element_id, "twinsync", data)

    def acknowledge(self, key: str, *, by: str, time: float) -> Event:
        alarm = self.active.get(key)
        if alarm is None:
            raise NotFound(f"no active alarm {key!r}")
        if alarm.acknowledged_at is not None:
            # The first acknowledgement says who saw it and when; a second (two people
            # at one screen, a retried click) must not overwrite it.
            raise AlreadyAcknowledged(f"alarm {key!r} was acknowledged already, by "
                                      f"{alarm.acknowledged_by} at {alarm.acknowledged_at:.0f}")
        alarm = replace(alarm, acknowledged_at=time, acknowledged_by=by)
        self.active[key] = alarm
        return Event("alarm_acknowledged", time, alarm.element_id, by, alarm.to_dict())

    def replay(self, event: Event) -> None:
        """Rebuild the active set from stored events, oldest first."""
        data = event.data
        key = data.get("key")
        if not isinstance(key, str):
            return
        if event.kind in ("alarm_raised", "alarm_updated", "alarm_acknowledged"):
            try:
                alarm = Alarm(key, str(data["severity"]), str(data["message"]),
                              float(data["raised_at"]), data.get("element_id"),
                              data.get("acknowledged_at"), data.get("acknowledged_by"),
                              float(data.get("updated_at") or 0.0))
            except (KeyError, TypeError, ValueError):
                # A damaged stored event must not stop a start-up: that alarm is lost,
                # the condition raises it again if it still holds.
                log.warning("alarm event %s of %r is damaged and not replayed", event.seq, key)
                return
            self.active[key] = alarm
        elif event.kind == "alarm_cleared":
            self.active.pop(key, None)
