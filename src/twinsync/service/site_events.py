"""Declared site events in the service: declare, withdraw and list them, and keep the
health monitor's spans in step with them.

A declaration and a withdrawal are each one transaction on the writer: the event's row and
its audit entry (``declare_event``, ``withdraw_event``) commit together or not at all, and
only then does the in-memory list change. Whenever the events, the sensors or the bindings
change (and at start-up), the spans per sensor row are computed again and handed to the
monitor (``HealthMonitor.set_events``) on the writer, the one thread that touches health:
every sensor an event names and every sensor bound to an element it names, as the bindings
stand then.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import FailedAfterCommit, NotFound
from ..model import validate
from ..model.site_events import SiteEvent, declared, spans
from ..store.audit import SYSTEM, Actor, AuditEntry
from .commit import commit_store

if TYPE_CHECKING:
    from .twin_service import TwinService


def event_key(event_id: str) -> str:
    """The audit log's target of an event."""
    return f"site_event:{event_id}"


class SiteEventDesk:
    """The declared site events of one ``TwinService``."""

    def __init__(self, service: TwinService) -> None:
        self.service = service
        #: Every event, withdrawn ones included, by id; replaced only after a commit.
        self.events: dict[str, SiteEvent] = {
            event.id: event for event in service.store.load_site_events()
        }
        self.apply()

    def apply(self) -> None:
        """Hand the monitor the spans of every live event (on the writer, or before it
        runs: at start-up)."""
        service = self.service
        rows, starts, ends = spans(self.events.values(), service.twin, service.pipeline.table.index)
        service.health.set_events(rows, starts, ends)

    async def declare(self, body: Mapping[str, Any], *, actor: Actor = SYSTEM) -> dict[str, Any]:
        """A new event (``model.site_events.declared`` checks it); its dict, with its id."""
        service = self.service

        def run() -> SiteEvent:
            event = declared(
                service.twin,
                body,
                event_id=secrets.token_hex(6),
                time=service.clock(),
                by=actor.name,
            )
            entry = service._entry(
                "declare_event",
                event_key(event.id),
                actor,
                after=event.to_dict(),
                **_subjects(event),
            )
            return self._commit(event, entry)

        return (await service.writer.write(run)).to_dict()

    async def withdraw(self, event_id: str, *, actor: Actor = SYSTEM) -> dict[str, Any]:
        """Withdraw a live event: it is no longer taken into account, and is kept."""
        service = self.service

        def run() -> SiteEvent:
            old = self.events.get(event_id)
            if old is None or not old.live:
                raise NotFound(f"no live site event {validate.shown(event_id)}")
            event = dataclasses.replace(old, withdrawn_at=service.clock())
            entry = service._entry(
                "withdraw_event",
                event_key(event_id),
                actor,
                {"withdrawn_at": None},
                {"withdrawn_at": event.withdrawn_at},
                **_subjects(event),
            )
            return self._commit(event, entry)

        return (await service.writer.write(run)).to_dict()

    def _commit(self, event: SiteEvent, entry: AuditEntry) -> SiteEvent:
        """On the writer: the event's row and its audit entry in one transaction, then
        the list and the monitor's spans. A failed commit changes nothing (StoreError)."""
        commit_store(
            self.service.store.save_changes, [], site_events=[event], audit_entries=[entry]
        )
        self.events[event.id] = event
        try:
            self.apply()
        except Exception as exc:
            # Kept already: the caller must not declare it again.
            raise FailedAfterCommit(
                f"site event {event.id} kept, then handing its spans to health failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return event

    async def matching(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        element_id: str | None = None,
        withdrawn: bool = False,
    ) -> list[dict[str, Any]]:
        """Events whose span overlaps ``since`` ≤ t < ``until`` and that concern
        ``element_id`` (name it, or a sensor bound to it), by start; withdrawn ones only
        if asked."""
        service = self.service

        def read() -> list[dict[str, Any]]:
            chosen = [
                event
                for event in self.events.values()
                if (withdrawn or event.live)
                and event.overlaps(since, until)
                and (element_id is None or event.concerns(element_id, service.twin))
            ]
            return [event.to_dict() for event in sorted(chosen, key=lambda e: (e.start, e.id))]

        return await service.view(read)


def _subjects(event: SiteEvent) -> dict[str, str | None]:
    """The element and sensor an audit entry is filed under: the one named, if only one
    is (the entry's ``after`` names them all)."""
    return {
        "element_id": event.element_ids[0] if len(event.element_ids) == 1 else None,
        "sensor_id": event.sensor_ids[0] if len(event.sensor_ids) == 1 else None,
    }
