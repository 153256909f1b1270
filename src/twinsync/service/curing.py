"""Progress from sensors in the service: concrete maturity from the temperatures of the
sensors bound to an element, and the element's status when its strength is reached.

The work is split as every analysis here is: what an element is (its mix, its pour, its
temperature sensors and their rows) is read on the writer; the readings are read from
the store and the maturity computed in a worker thread; a strength reached is recorded as
a transaction on the writer (the observation, the element's status, the events and the
audit entries commit together), checked again there so two rounds cannot record it twice.

A round (``check``) runs every ``interval`` seconds in the background, and only for
elements whose sensors have a newer reading than at their last round: the readings path
itself does none of this work.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotFound, UnitError
from ..model import SPATIAL_TYPES, Element, Twin
from ..model.curing import Curing, TemperatureSeries, assess
from ..model.curing_ops import add_mix, pour_time, record_strength, strength_recorded
from ..model.mix import Mix, mix_of
from ..store.audit import SYSTEM, Actor
from ..units import converter
from .background import Background
from .commit import Change
from .revisions import element_key
from .schedules import _status_entries

if TYPE_CHECKING:
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: Seconds between rounds: concrete gains strength over hours, and a round reads each
#: watched sensor's history since the pour.
CHECK_SECONDS = 300.0
#: At most this many readings of one sensor are read (a reading a minute for ~2 years).
MAX_READINGS = 1_000_000


@dataclass(frozen=True, slots=True)
class Job:
    """What an element is, as read on the writer."""

    element_id: str
    mix: Mix
    pour: tuple[float, str] | None
    sensors: tuple[tuple[str, int, float, float], ...]  # id, row, scale, shift to °C
    not_temperature: tuple[str, ...]
    latest: float  # the newest reading of its sensors
    recorded: bool
    problem: str | None = None  # why the pour cannot be read (a bad ``poured_at``)


def _jobs(service: TwinService, element_ids: list[str] | None, as_of: float) -> list[Job]:
    """On the writer: the elements of a mix (all, or those named) and what they need."""
    twin, plan = service.twin, service.plan
    if not plan.mixes:
        return []
    links = plan.linked(twin) if plan.schedule is not None else {}
    chosen = (
        twin.elements.values() if element_ids is None else [twin.element(e) for e in element_ids]
    )
    table = service.pipeline.table
    jobs = []
    for element in chosen:
        if element.archived or element.type in SPATIAL_TYPES:
            continue
        mix = mix_of(plan.mixes, element)
        if mix is None:
            continue
        sensors, other = _temperature_sensors(twin, element, mix, table.index)
        latest = max((float(table.last_event_time[row]) for _, row, _, _ in sensors), default=0.0)
        # A bad declaration is this element's problem, said in its view; the others'
        # rounds go on.
        try:
            pour, problem = pour_time(plan, element, links, as_of), None
        except InvalidInput as exc:
            pour, problem = None, str(exc)
        jobs.append(
            Job(
                element.id,
                mix,
                pour,
                tuple(sensors),
                tuple(other),
                latest,
                strength_recorded(plan, element.id),
                problem,
            )
        )
    return jobs


def _temperature_sensors(
    twin: Twin, element: Element, mix: Mix, rows: dict[str, int]
) -> tuple[list[tuple[str, int, float, float]], list[str]]:
    """The element's sensors whose values are temperatures (the bound property's unit, else
    the sensor's, converts to °C), on the mix's properties if it names them (so an
    air temperature bound to the slab is not taken for the concrete's)."""
    found, other = [], []
    for sensor_id in twin.sensors_of(element.id):
        binding = twin.bindings[sensor_id]
        if mix.temperature_properties and binding.property not in mix.temperature_properties:
            continue
        unit = binding.transform.unit or twin.sensor(sensor_id).unit
        try:
            to_c = converter(unit, "degC")
        except UnitError:
            other.append(sensor_id)
            continue
        if sensor_id in rows:
            found.append((sensor_id, rows[sensor_id], to_c.scale, to_c.shift))
    return found, other


class CuringDesk:
    """Maturity and strength of the service's concrete elements."""

    def __init__(self, service: TwinService, *, interval: float = CHECK_SECONDS) -> None:
        self.service = service
        self.interval = interval
        # element → the newest reading of its sensors when last assessed
        self._seen: dict[str, float] = {}
        self._background = Background("twinsync-curing", self._run)

    # -- mixes ---------------------------------------------------------------------------

    async def add_mix(self, body: object, *, actor: Actor = SYSTEM) -> dict[str, Any]:
        service = self.service
        mixes: list[Mix] = []

        def propose() -> Change:
            saved = dict(service.plan.mixes)
            event, rows, mix = add_mix(service.plan, body, time=service.clock())
            before = saved.get(mix.name)
            mixes.append(mix)
            entry = service._entry(
                "declare_mix",
                f"mix:{mix.name}",
                actor,
                before.to_dict() if before else None,
                mix.to_dict(),
            )
            return Change([event], audit=[entry], plan=rows)

        await service._run(propose)
        self._seen.clear()  # a new curve or requirement: every element is assessed again
        return mixes[0].to_dict()

    async def mixes(self) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            return [mix.to_dict() for mix in self.service.plan.mixes.values()]

        return await self.service.view(read)

    # -- assessing -----------------------------------------------------------------------

    def _curing(self, job: Job, as_of: float) -> Curing | None:
        """In a worker thread: the element's curing from its sensors' stored readings."""
        if job.pour is None:
            return None
        poured_at, pour_source = job.pour
        series = []
        for sensor_id, row, scale, shift in job.sensors:
            history = self.service.store.history(row, poured_at, as_of + 1e-6, MAX_READINGS)
            series.append(
                TemperatureSeries(
                    sensor_id,
                    history.event_time,
                    history.value * scale + shift,
                    history.quality,
                    history.flags,
                )
            )
        return assess(job.element_id, job.mix, series, poured_at, pour_source, as_of)

    async def assess(self, element_id: str, as_of: float | None = None) -> dict[str, Any]:
        """An element's maturity and estimated strength as of ``as_of`` (default now)."""
        service = self.service
        when = service.clock() if as_of is None else as_of
        jobs = await service.view(_jobs, service, [element_id], when)
        if not jobs:
            raise NotFound(
                f"element {element_id!r} is of no concrete mix: declare one with "
                "POST /api/mixes (by element, property value or IFC class)"
            )
        job = jobs[0]
        curing = await asyncio.to_thread(self._curing, job, when)
        head = {
            "element_id": element_id,
            "mix": job.mix.name,
            "as_of": when,
            "recorded": job.recorded,
            "not_temperature_sensors": list(job.not_temperature),
        }
        if curing is None:
            return {
                **head,
                "poured_at": None,
                "estimate": None,
                "detail": job.problem
                or "the pour is not known: declare the element's poured_at, or "
                "report the element or its activity started",
            }
        if not job.sensors:
            return {
                **head,
                "poured_at": job.pour[0] if job.pour else None,
                "estimate": None,
                "detail": "no temperature sensor is bound to the element",
            }
        return {**head, **curing.to_dict()}

    async def check(self) -> list[dict[str, Any]]:
        """One round: every element of a mix whose sensors have read since its last round
        is assessed, and a strength reached is recorded. Returns what was recorded."""
        service = self.service
        now = service.clock()
        jobs = await service.view(_jobs, service, None, now)
        recorded = []
        for job in jobs:
            if job.recorded or job.pour is None or not job.sensors:
                continue
            if self._seen.get(job.element_id) == job.latest:
                continue  # nothing new since it was last assessed
            curing = await asyncio.to_thread(self._curing, job, now)
            if curing is not None and curing.reached_at is not None:
                events = await self._record(curing)
                if events:
                    recorded.append(events[0])
            self._seen[job.element_id] = job.latest
        return recorded

    async def _record(self, curing: Curing) -> list[dict[str, Any]]:
        service = self.service

        def propose() -> Change:
            element = service.twin.elements.get(curing.element_id)
            if (
                element is None
                or element.archived
                or strength_recorded(service.plan, curing.element_id)
            ):
                return Change([])
            events, rows, changed = record_strength(
                service.plan, service.twin, curing, time=service.clock()
            )
            entries = [
                service._entry(
                    "record_strength",
                    element_key(curing.element_id),
                    SYSTEM,
                    after=events[0].data,
                    element_id=curing.element_id,
                )
            ]
            entries += _status_entries(service, events[1:], SYSTEM)
            return Change(events, elements=changed, audit=entries, plan=rows)

        events = await service._run(propose)
        return [event.to_dict() for event in events]

    # -- the round's timer ---------------------------------------------------------------

    def start(self) -> None:
        if math.isfinite(self.interval):
            self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a bad round must not end the rounds
                log.exception("curing round failed")
