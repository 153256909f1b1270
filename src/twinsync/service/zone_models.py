"""The thermal zones on the reading path: every space with a sensor on its air temperature
is a first-order RC zone (``physics/thermal.py``) whose temperature, R and C the UKF
estimates online from its readings (``physics/zone_bank.py``), driven by the outdoor
temperature and, when a sensor reads it, the zone's heating (or cooling) power.

Which elements are zones (``apply_bindings``, after each committed change of bindings, or of
an element that makes or ends one, ``changed_by``): a live ``IfcSpace``, or any element
whose ``thermal_zone`` property is true (false takes a space out), with a sensor bound to
its ``air_temperature`` in °C. Its outdoor temperature is the ``outdoor_temperature`` of any
element, or the ``ambient_temperature`` of a site, a building or an element whose
``outdoor`` property is true (false takes a site or building out): the zone's nearest
container that has one, else the twin's only one. Its heating is its own ``heating_power``
(kW or W) when a sensor reads it; else Φ = 0, the zone's heat gain G (``HeatGainZone``,
a faster walk without a meter: ``ZoneKnobs``) stands for the heating no sensor reads,
and only the time constant R·C can be learned (R and C alone are not reported). A space
without an air temperature sensor or an outdoor temperature is not a zone, with the
reason (``of_element``). Its **neighbours** are the spaces its ``adjacent_spaces`` property
names (written from the BIM model's space boundaries at import) that have a sensor on their
air temperature in °C (a zone or not): their mean temperature is the zone's third input
(``NeighbourZone``, through ``ZoneBank``), each neighbour as last read before the step's
event time (``_beside``). A neighbour last read over ``NEIGHBOUR_FRESH`` before the step
is left out of the mean; if all are, their last values are held and the step counts as
one whose inputs are not known (its parameters do not learn from it); a zone with no
neighbour ever read takes the outdoor temperature for it, so the share learns nothing.
A neighbour never holds its zone back (its readings are not waited for).

``step`` runs on the writer after the level/trend models, inside the batch's transaction,
over the readings health folds in order: an outdoor or heating reading goes into its
input's short history by event time (``physics/zone_inputs.py``); a zone's reading steps
the zone from its last reading to the reading's time with each input as last read before
that time, then updates it (its quality weighs it; a reading older than the zone's last is
left out). A zone reading whose inputs are not yet known up to its time (the outdoor
station uploads hourly, or after an outage) waits until they are, at most ``WAIT_SECONDS``
of receive time and ``ZoneBank.WAITING`` readings a zone; past that it is stepped with
what is known and counted (``stepped_before_inputs_known``). A zone waits for its first
outdoor (and heating) reading. A zone silent for over ``COAST_AFTER`` is coasted on to
each input reading's time by the same rules (``_coast``: the inputs as last read before
it, once they are known to it, never past a reading it holds back), for fusion
(``model_sources.py``). An input is placed by its corrected event time: the
pipeline corrects a device clock that runs ahead (its first readings quarantined, the
input held meanwhile), and where health names an input sensor's clock behind (state
``clock``) the zone adds the lag health measured (``HealthMonitor.clock_behind``), so an
outdoor station an hour slow neither leads nor lags the zone by an hour; the view says by
how much an input was moved (``clock_corrected_by``). ``savepoint``/``rollback`` keep the
rows a batch touches, so a failed commit leaves the zones as they were; the state is saved
with the health snapshot and restored at start-up (``ZONE_FORMAT``; a state saved before
the divergence watch is restored with the watch fresh).

The view (``of_element``) gives the zone's forecast as the forecast route does
(``zone_forecasts.py``: the inputs persisted with their stored readings' spread).

Each zone's divergence is watched (``physics/zone_watch.py``, in the bank's columns):
when an episode starts the batch commits a ``twin_divergence`` event under the zone's
element (``air_temperature``, model ``thermal_zone``, direction, size in K and in sd,
since when), raises the ``zone:<element>`` alarm (the alarm book suppresses repeats) and a
``twin_recalibrated`` event with R, C (τ alone without heating) and the temperature before
and after; the alarm is cleared when the zone is back in control, or by the change that
makes the element no zone (``leaving``, in that change's transaction). At start-up a zone
is in an episode exactly while its alarm is active (``settle_alarms``: the saved state
may predate the episode's start or end). The service rolls the alarm book back with the
zones if the commit fails. ``enabled`` False (the ``zone_models``
setting) runs nothing.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..errors import TwinsyncError
from ..model import Element, Event
from ..physics.zone_bank import ZoneBank, ZoneKnobs, ZoneSave
from ..physics.zone_inputs import HistorySave, InputHistory, ready_to_step
from ..physics.zone_watch import AGAIN, ENDED, STARTED, WatchReport
from ..pipeline import Batch, Flag
from .commit import commit_store
from .views import finite_or_none
from .zone_forecasts import MODEL
from .zone_view import AIR, MAX_HOURS, identifiable, parameters, zone_view

if TYPE_CHECKING:
    from .commit import Change
    from .fusion import PropertyIndex
    from .twin_service import TwinService

log = logging.getLogger(__name__)

#: The store's name for the saved zone state.
ZONE_SNAPSHOT = "zone_models"
#: The saved state's format: 1 (no ``format`` entry) before the divergence watch, 2 with
#: it (a zone of format 1 starts its watch afresh), 3 with the heat gain in the state
#: (``[T, ln R, ln C, G]``; a zone of format 1 or 2 keeps its T, R and C and starts its
#: gain at 0 with the prior's sd), 4 with the neighbours' share (``[T, ln R, ln C, G,
#: logit s]``; a zone of format 1-3 keeps what it had and starts its share at the prior,
#: its kept readings taken as stepped with no neighbour read).
ZONE_FORMAT = 4
#: The prefix of a zone's divergence alarm key (the element's id follows).
ALARM_PREFIX = "zone:"
SEVERITY = "warning"
ZONE_TYPES = ("IfcSpace",)
#: The property naming the spaces beside a space (``bim.importer.ADJACENT_SPACES``).
ADJACENT = "adjacent_spaces"
OUTDOOR = "outdoor_temperature"
AMBIENT = "ambient_temperature"
OUTDOOR_TYPES = ("IfcSite", "IfcBuilding")
HEATING = "heating_power"
CELSIUS = ("degC", "°C", "Cel", "celsius")
KILOWATTS = {"kW": 1.0, "W": 1e-3}
#: A reading's role.
NONE, ZONE, INPUT = 0, 1, 2
__all__ = ["MAX_HOURS", "ZONE_SNAPSHOT", "ZoneDesk"]
#: A zone silent for longer than this (seconds) is coasted on through its inputs' readings.
COAST_AFTER = 3600.0
#: Receive-time seconds a zone reading waits for its inputs to be known up to its time:
#: an outdoor station that uploads hourly is normal on a site, two hours covers it with
#: a margin; past that the zone steps with what is known rather than fall behind further.
WAIT_SECONDS = 7200.0
#: Event-time seconds a neighbour's last reading before a step stands for its temperature
#: in the neighbours' mean: as long as an input's wait (a neighbour read every 15 minutes
#: misses seven readings first); past that its value is a guess.
NEIGHBOUR_FRESH = 7200.0


class ZonePoint(NamedTuple):
    """The zones' and inputs' rows a batch touches, as they were (every zone's coasted
    state where the batch reads an input: it may coast any silent zone)."""

    zones: ZoneSave
    ahead: dict[str, NDArray[Any]] | None
    slots: NDArray[np.int64]
    slot_value: NDArray[np.float64]
    slot_time: NDArray[np.float64]
    slot_shift: NDArray[np.float64]
    history: HistorySave
    holding: int


class Zone(NamedTuple):
    """A modelled zone: its sensors, its outdoor and heating sources and its neighbours'
    air temperatures (input slots)."""

    element_id: str
    sensors: tuple[str, ...]
    outdoor: int
    heating: int
    neighbours: tuple[int, ...] = ()


#: A zone as planned: element, sensors, outdoor source, heating source, neighbours.
Planned = tuple[str, tuple[str, ...], tuple[str, str], tuple[str, str] | None,
                tuple[tuple[str, str], ...]]


class ZoneDesk:
    """The thermal zones of one ``TwinService`` (see the module)."""

    def __init__(self, service: TwinService, *, enabled: bool = True,
                 knobs: ZoneKnobs | None = None) -> None:
        self.service = service
        self.enabled = enabled
        self.bank = ZoneBank(knobs)
        self.zones: list[Zone] = []
        self.index: dict[str, int] = {}
        #: Why a space is not modelled, by element.
        self.reasons: dict[str, str] = {}
        #: Input sources (element, property) and their latest reading (°C or kW).
        self.slots: list[tuple[str, str]] = []
        self.slot_value = np.zeros(0)
        self.slot_time = np.zeros(0)
        #: Seconds the latest reading of each input was moved (its clock behind), or 0.
        self.slot_shift = np.zeros(0)
        #: Each input's recent readings by event time (what a zone step takes).
        self.history = InputHistory()
        self.role = np.zeros(0, dtype=np.int8)
        self.target = np.zeros(0, dtype=np.int64)
        #: The input slot a sensor row's readings feed as a neighbour's air temperature
        #: (-1: none); a zone's own sensor may feed its neighbours' zones too.
        self.feeds = np.zeros(0, dtype=np.int64)
        #: Each zone's neighbours' slots: ``neighbour_slots[neighbour_start[z]:
        #: neighbour_start[z + 1]]``.
        self.neighbour_start = np.zeros(1, dtype=np.int64)
        self.neighbour_slots = np.zeros(0, dtype=np.int64)
        self.factor = np.zeros(0)
        #: Seconds spent in ``step`` (the bench reads it).
        self.seconds = 0.0
        self._last_readings: tuple[Batch, NDArray[np.int64], NDArray[np.int64],
                                   NDArray[np.int8]] | None = None
        #: How many zones hold readings back (``bank.columns["waiting"]`` above 0), kept so
        #: that a batch without a zone's reading does not scan every zone to learn it.
        self.holding = 0
        self._fed: set[tuple[str, str]] = set()
        self._sources: set[str] = set()
        self.apply_bindings()
        if enabled:
            self._restore()
            # ``settle_alarms`` follows once the batches after the save are replayed
            # (``TwinService``): the replay starts from the state and the alarms of the save.
        else:
            # Nothing watches the zones now: their alarms would stay active for good.
            self._commit_clears(self._alarmed(), dict.fromkeys(self.index,
                                                               "zone models are off"))

    # -- which elements are zones ----------------------------------------------------------

    def apply_bindings(self) -> None:
        """After a change of elements, sensors or bindings (committed): which elements are
        zones and what feeds them. A zone that stays keeps its state, a new one starts
        fresh; an input keeps its latest reading."""
        self._last_readings = None  # found under the roles before
        zones, reasons, fed = self._plan(registered=True)
        self._renumber(zones, fed)
        self.reasons = reasons
        # What ``changed_by`` compares a changed element with.
        self._fed = set(fed)
        elements = self.service.twin.elements
        self._sources = {e for (e, prop) in fed if _is_outdoor(elements[e], prop)}

    def changed_by(self, elements: Iterable[Element]) -> bool:
        """Whether committed changes of these elements alone (no change of bindings: a
        field update of ``thermal_zone`` or ``outdoor``, an archive) make or end a zone or
        an outdoor source, so that the zones must be found again. No pass over the twin:
        a PATCH of one element of a large twin must not cost one."""
        for element in elements:
            live = not element.archived
            was_zone = element.id in self.index or element.id in self.reasons
            if was_zone != (live and _is_zone(element)):
                return True
            k = self.index.get(element.id)
            if k is not None and live:
                # Its neighbours as declared now (``adjacent_spaces`` set by a PATCH) against
                # those it was given: only those whose air is read can count.
                named = {other for other in _adjacent(element) if (other, AIR) in self._fed}
                named.discard(element.id)
                if named != {self.slots[slot][0] for slot in self.zones[k].neighbours}:
                    return True
            source = live and ((element.id, OUTDOOR) in self._fed or (
                (element.id, AMBIENT) in self._fed and _is_outdoor(element, AMBIENT)))
            if source != (element.id in self._sources):
                return True
        return False

    def _plan(self, *, registered: bool) -> tuple[
            list[Planned], dict[str, str], dict[tuple[str, str], list[str]]]:
        """The zones the twin has as it is now, why each other space is none, and the
        sensors feeding each (element, property). ``registered``: only sensors the
        pipeline has rows for (after a commit); else also those a change being proposed
        adds (their rows come once it commits)."""
        twin = self.service.twin
        table = self.service.pipeline.table
        fed: dict[tuple[str, str], list[str]] = {}
        for sensor_id in twin.bindings:
            binding = twin.live_binding(sensor_id)
            if binding is not None and (sensor_id in table.index or (
                    not registered and sensor_id in twin.sensors)):
                fed.setdefault((binding.element_id, binding.property), []).append(sensor_id)

        def unit(sensor_id: str) -> str:
            row = table.index.get(sensor_id)
            return table.units[row] if row is not None else twin.sensors[sensor_id].unit

        elements = twin.elements
        sources = sorted(e for (e, prop) in fed if _is_outdoor(elements[e], prop))
        source_of = {e: (e, OUTDOOR if (e, OUTDOOR) in fed else AMBIENT) for e in sources}
        zones: list[Planned] = []
        reasons: dict[str, str] = {}

        def air_read(element_id: str) -> bool:
            other = elements.get(element_id)
            return other is not None and not other.archived and any(
                unit(s) in CELSIUS for s in fed.get((element_id, AIR), ()))

        for element in elements.values():
            if element.archived or not _is_zone(element):
                continue
            sensors = tuple(sorted(s for s in fed.get((element.id, AIR), ())
                                   if unit(s) in CELSIUS))
            if not sensors:
                reasons[element.id] = f"no sensor reads its {AIR} in °C"
                continue
            outdoor = _nearest(element, elements, source_of)
            if outdoor is None and len(sources) == 1:
                outdoor = source_of[sources[0]]
            if outdoor is None:
                reasons[element.id] = (
                    "no outdoor temperature sensor in the twin" if not sources else
                    f"{len(sources)} outdoor temperature sources, none contains it")
                continue
            heating = (element.id, HEATING) if any(
                unit(s) in KILOWATTS for s in fed.get((element.id, HEATING), ())) else None
            # The spaces beside it that read their air (a space without a sensor gives
            # nothing to take).
            neighbours = tuple(sorted((other, AIR) for other in set(_adjacent(element))
                                      if other != element.id and air_read(other)))
            zones.append((element.id, sensors, outdoor, heating, neighbours))
        zones.sort()
        return zones, reasons, fed

    # -- alarms of zones that are no more ----------------------------------------------------

    def _alarmed(self) -> list[str]:
        """The elements with an active ``zone:`` alarm."""
        return sorted(key[len(ALARM_PREFIX):] for key in self.service.alarms.active
                      if key.startswith(ALARM_PREFIX))

    def leaving(self, change: Change) -> list[Event]:
        """In a twin change's transaction, once proposed and before it commits: clear the
        ``zone:`` alarm of each element the change leaves no zone (its air temperature
        sensor unbound, its outdoor source gone, the element archived or no longer a
        space). Nothing else would: only a zone's own watch ends its episode. The caller
        rolls the alarm book back if the commit fails."""
        if not self.enabled:
            return []
        if not (change.sensors or change.bindings or change.unbound):
            # A change of elements alone (a status, a measurement) ends a zone only if it
            # touches a zone or an outdoor source: the twin's zones are not found again
            # (a pass over every element) for every PATCH of a large twin.
            sources = {element for element, _ in self.slots}
            if not any(e.id in self.index or e.id in sources for e in change.elements):
                return []
        alarmed = self._alarmed()
        if not alarmed:
            return []
        zones, reasons, _ = self._plan(registered=False)
        staying = {z[0] for z in zones}
        return self._clear((e for e in alarmed if e not in staying), reasons)

    def _clear(self, elements: Iterable[str], reasons: dict[str, str]) -> list[Event]:
        book, now = self.service.alarms, self.service.clock()
        events = []
        why = "is no longer a thermal zone"
        for element in elements:
            reason = reasons.get(element)
            cleared = book.clear(ALARM_PREFIX + element,
                                 f"{element}: {why}" + (f" ({reason})" if reason else ""),
                                 time=now)
            if cleared is not None:
                events.append(cleared)
        return events

    def settle_alarms(self) -> None:
        """At start-up, after the zones' state is restored and the batches after its save
        replayed (``recovery``): the alarm book (rebuilt from committed events) is what
        was told, so each zone is in an episode exactly while its alarm is active. What a
        replay cannot make exact (an episode the saved state predates whose batches were
        not all replayed, a state saved before replays existed) could otherwise leave a
        zone in control under an active alarm (nothing would ever clear it) or in an
        episode with none (a new divergence would only recalibrate, unannounced). An
        alarm of an element that is no zone now (left by a version that did not clear
        it) is cleared, and that committed here. Does nothing with the zones off."""
        if not self.enabled:
            return
        alarmed = self._alarmed()
        c = self.bank.columns
        count = len(self.zones)
        in_alarm = np.zeros(count, dtype=np.bool_)
        for element in alarmed:
            k = self.index.get(element)
            if k is not None:
                in_alarm[k] = True
        episode = c["episode"][:count] > 0
        begin = np.flatnonzero(in_alarm & ~episode)
        for k in begin.tolist():
            alarm = self.service.alarms.active[ALARM_PREFIX + self.zones[k].element_id]
            c["episode_since"][k] = c["episode_start"][k] = alarm.raised_at
        c["episode"][begin] = 1.0
        c["quiet_run"][begin] = 0
        end = np.flatnonzero(episode & ~in_alarm)
        c["episode"][end] = 0.0
        c["quiet_run"][end] = 0
        self._commit_clears([e for e in alarmed if e not in self.index], self.reasons)

    def _commit_clears(self, elements: list[str], reasons: dict[str, str]) -> None:
        """At start-up: clear the ``zone:`` alarms of ``elements``, committed at once."""
        if not elements:
            return
        saved = self.service.alarms.savepoint()
        events = self._clear(elements, reasons)
        try:
            commit_store(self.service.store.save_changes, events)
        except TwinsyncError as exc:
            self.service.alarms.rollback(saved)
            log.warning("clearing the zone alarms of %d elements failed, tried again at "
                        "the next start: %s", len(elements), exc)

    def _renumber(self, zones: list[Planned], fed: dict[tuple[str, str], list[str]]) -> None:
        table = self.service.pipeline.table
        slots = sorted({z[2] for z in zones} | {z[3] for z in zones if z[3] is not None}
                       | {key for z in zones for key in z[4]})
        slot_at = {key: k for k, key in enumerate(slots)}
        old_slot = {key: k for k, key in enumerate(self.slots)}
        value, when = np.full(len(slots), np.nan), np.full(len(slots), np.nan)
        shift = np.zeros(len(slots))
        for key, k in slot_at.items():
            if key in old_slot:
                value[k], when[k] = self.slot_value[old_slot[key]], self.slot_time[old_slot[key]]
                shift[k] = self.slot_shift[old_slot[key]]
        history = InputHistory(self.history.capacity)
        history.grow(len(slots))
        moved = [(k, old_slot[key]) for key, k in slot_at.items() if key in old_slot]
        if moved:
            new_slots, old_slots = (np.array(side, dtype=np.int64)
                                    for side in zip(*moved, strict=True))
            history.put(new_slots, self.history.take(old_slots))
        bank = ZoneBank(self.bank.knobs)
        bank.grow(len(zones))
        kept = [(k, self.index[z[0]]) for k, z in enumerate(zones) if z[0] in self.index]
        if kept:
            new_rows, old_rows = (np.array(side, dtype=np.int64)
                                  for side in zip(*kept, strict=True))
            bank.put(new_rows, self.bank.take(old_rows))
        size = len(table)
        role, target, factor = (np.zeros(size, dtype=np.int8), np.zeros(size, dtype=np.int64),
                                np.ones(size))
        feeds = np.full(size, -1, dtype=np.int64)
        self.zones = []
        for k, (element_id, sensors, outdoor, heating, neighbours) in enumerate(zones):
            self.zones.append(Zone(element_id, sensors, slot_at[outdoor],
                                   -1 if heating is None else slot_at[heating],
                                   tuple(slot_at[key] for key in neighbours)))
            for sensor in sensors:
                role[table.index[sensor]], target[table.index[sensor]] = ZONE, k
        for key, k in slot_at.items():
            for sensor in fed[key]:
                row = table.index[sensor]
                unit = table.units[row]
                if key[1] == AIR:
                    # A neighbour's air: fed beside whatever role the row has (a zone's).
                    if unit in CELSIUS:
                        feeds[row] = k
                    continue
                if key[1] == HEATING and unit not in KILOWATTS:
                    continue
                if key[1] != HEATING and unit not in CELSIUS:
                    continue
                role[row], target[row] = INPUT, k
                factor[row] = KILOWATTS.get(unit, 1.0) if key[1] == HEATING else 1.0
        self.bank, self.slots, self.slot_value, self.slot_time = bank, slots, value, when
        self.slot_shift, self.history = shift, history
        self.index = {z.element_id: k for k, z in enumerate(self.zones)}
        self.role, self.target, self.factor, self.feeds = role, target, factor, feeds
        self.outdoor_slot = np.array([z.outdoor for z in self.zones], dtype=np.int64)
        self.heating_slot = np.array([z.heating for z in self.zones], dtype=np.int64)
        self.neighbour_start = np.r_[0, np.cumsum([len(z.neighbours) for z in self.zones],
                                                  dtype=np.int64)].astype(np.int64)
        self.neighbour_slots = np.array([slot for z in self.zones for slot in z.neighbours],
                                        dtype=np.int64)
        self._mark_meters()
        self._recount()

    def _mark_meters(self) -> None:
        """Which zones' heating is metered (the bank's ``metered``: their heat gain's
        process noise), from the zones as planned now, not as saved."""
        self.bank.meter(np.arange(len(self.zones), dtype=np.int64), self.heating_slot >= 0)

    def _recount(self) -> None:
        """``holding`` from the bank itself, after it was rebuilt or restored."""
        self.holding = int(np.count_nonzero(self.bank.columns["waiting"]))

    def property_zones(self, index: PropertyIndex
                       ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The property numbers (in ``index``, sorted) of the air temperatures of zones
        that have taken a reading, and those zones: one pass over the zones."""
        count = self.bank.columns["count"]
        pairs = [(number, zone) for element, zone in self.index.items()
                 if count[zone] > 0 and (number := index.number(element, AIR)) is not None]
        numbers = np.array([number for number, _ in pairs], dtype=np.int64)
        zones = np.array([zone for _, zone in pairs], dtype=np.int64)
        order = np.argsort(numbers, kind="stable")
        return numbers[order], zones[order]

    def zone_of(self, element_id: str, prop: str) -> int | None:
        """The zone modelling the element's ``prop`` (its air temperature), or None."""
        return self.index.get(element_id) if prop == AIR else None

    def input_rows(self, slot: int) -> list[tuple[int, float]]:
        """The sensor rows an input slot is read from, and the factor each reading is
        scaled by to the zone's unit (W to kW)."""
        rows = np.flatnonzero((self.role == INPUT) & (self.target == slot))
        return [(row, float(self.factor[row])) for row in rows.tolist()]

    # -- the reading path ------------------------------------------------------------------

    def _readings(self, batch: Batch, in_time: NDArray[np.int64]
                  ) -> tuple[NDArray[np.int64], NDArray[np.int8]]:
        """Of ``in_time``, the readings of zone and input sensors with a value, and roles;
        and the inputs' readings behind their sensor's watermark (a station backfilling a
        gap after a newer reading went through): health does not fold them in, but they
        are what the outdoors was at their time, for the history. Found once a batch:
        ``savepoint`` and ``step`` ask for the same batch in turn."""
        last = self._last_readings
        if last is not None and last[0] is batch and last[1] is in_time:
            return last[2], last[3]
        late = np.flatnonzero(batch.flagged(Flag.LATE)
                              & ~batch.flagged(Flag.QUARANTINED | Flag.OUT_OF_RANGE))
        taken = np.r_[in_time, late].astype(np.int64)
        rows = batch.rows[taken]
        role = np.zeros(taken.size, dtype=np.int8)
        inside = rows < self.role.size
        role[inside] = self.role[rows[inside]]
        role[in_time.size:][role[in_time.size:] == ZONE] = NONE
        # A neighbour's reading goes into its history whatever its role (a late one too:
        # it is what the room was at its time).
        feeds = np.zeros(taken.size, dtype=np.bool_)
        feeds[inside] = self.feeds[rows[inside]] >= 0
        keep = ((role != NONE) | feeds) & np.isfinite(batch.value[taken])
        self._last_readings = (batch, in_time, taken[keep], role[keep])
        return taken[keep], role[keep]

    def savepoint(self, batch: Batch, in_time: NDArray[np.int64]) -> ZonePoint | None:
        if not self.enabled or not self.zones:
            return None
        at, role = self._readings(batch, in_time)
        targets = self.target[batch.rows[at]]
        fed = self.feeds[batch.rows[at]]
        feeding = (role == INPUT) | (fed >= 0)
        written = np.where(role == INPUT, targets, fed)[feeding]
        slots = np.unique(written)
        # A batch may step any zone that holds readings back (its inputs came, or its
        # wait ran out), besides the zones it reads; and one that reads an input may coast
        # any silent zone.
        zones = targets[role == ZONE]
        if self.holding:
            zones = np.r_[zones, np.flatnonzero(self.bank.columns["waiting"])]
        columns = self.bank.columns
        ahead = ({name: columns[name].copy() for name in ZoneBank.AHEAD} if slots.size
                 else None)
        return ZonePoint(self.bank.savepoint(zones), ahead, slots,
                         self.slot_value[slots].copy(), self.slot_time[slots].copy(),
                         self.slot_shift[slots].copy(),
                         # by their stamps: a clock behind only moves a reading later
                         self.history.savepoint(written, batch.event_time[at][feeding]),
                         self.holding)

    def rollback(self, point: ZonePoint | None) -> None:
        if point is not None:
            self.bank.rollback(point.zones)
            if point.ahead is not None:
                for name, column in point.ahead.items():
                    self.bank.columns[name][:] = column
            self.slot_value[point.slots] = point.slot_value
            self.slot_time[point.slots] = point.slot_time
            self.slot_shift[point.slots] = point.slot_shift
            self.history.rollback(point.history)
            self.holding = point.holding

    def step(self, batch: Batch, in_time: NDArray[np.int64]) -> list[Event]:
        """On the writer, after health: hold the batch's inputs, step and update the zones
        it reads; return the divergence and recalibration events and alarm transitions of
        their watch. Take ``savepoint`` first."""
        if not self.enabled or not self.zones or len(batch) == 0:
            return []
        began = time.perf_counter()
        told = WatchReport.empty()
        at, role = self._readings(batch, in_time)
        if at.size or self.holding:
            rows = batch.rows[at]
            quality = np.ones(at.size) if batch.quality is None else batch.quality[at]
            # An input whose clock health names behind is placed by the lag it measured:
            # by its stamp, an outdoor station an hour slow would act an hour early. So is
            # a neighbour's air, as an input (the zone's own reading keeps its stamp).
            shift = np.zeros(at.size)
            fed = self.feeds[rows]
            inputs = np.flatnonzero((role == INPUT) | (fed >= 0))
            if inputs.size:
                shift[inputs] = self.service.health.clock_behind(rows[inputs])
            told = self._fold(self.target[rows], role, fed, batch.event_time[at],
                              batch.value[at] * self.factor[rows], quality, shift,
                              batch.received_at[at], float(np.max(batch.received_at)))
        events = self._events(told) if told.zones.size else []
        self.seconds += time.perf_counter() - began
        return events

    def _events(self, told: WatchReport) -> list[Event]:
        """The watch's word as events: a divergence's start (event, alarm, and the
        recalibration), a recalibration within it, its end (the alarm cleared)."""
        book = self.service.alarms
        events: list[Event] = []
        for i in range(told.zones.size):
            zone = self.zones[int(told.zones[i])]
            element, at, code = zone.element_id, float(told.times[i]), int(told.code[i])
            key = ALARM_PREFIX + element
            if code == ENDED:
                cleared = book.clear(key, f"{element}: back in step with its thermal zone model",
                                     time=at)
                events += [] if cleared is None else [cleared]
                continue
            if code == STARTED:
                size, size_sd = float(told.size[i]), float(told.size_sd[i])
                events.append(Event("twin_divergence", at, element, "twinsync", {
                    "property": AIR, "model": MODEL, "sensors": list(zone.sensors),
                    "direction": "up" if told.direction[i] > 0 else "down", "unit": "K",
                    "size": finite_or_none(size), "size_sd": finite_or_none(size_sd),
                    "since": finite_or_none(float(told.since[i])),
                    "statistic": finite_or_none(float(told.statistic[i]))}))
                raised = book.raise_(
                    key, SEVERITY, f"{element}: {AIR} runs {size:+.3g} K ({size_sd:+.1f} sd) "
                    "off its thermal zone model", element_id=element, time=at)
                events += [] if raised is None else [raised]
            if code in (STARTED, AGAIN):
                heated = zone.heating >= 0
                events.append(Event("twin_recalibrated", at, element, "twinsync", {
                    "property": AIR, "model": MODEL, "window": int(told.window[i]),
                    "identifiable": identifiable(heated),
                    "before": parameters(told.before[i], heated),
                    "after": parameters(told.after[i], heated)}))
        return events

    def _fold(self, targets: NDArray[np.int64], role: NDArray[np.int8],
              fed: NDArray[np.int64], stamps: NDArray[np.float64],
              values: NDArray[np.float64], quality: NDArray[np.float64],
              shift: NDArray[np.float64], received: NDArray[np.float64], now: float
              ) -> WatchReport:
        is_input = role == INPUT
        times = stamps + shift
        slots, slot_times = targets[is_input], times[is_input]
        # Inputs first, and the neighbours' air: a room reading of this batch may be the
        # one they were waited for, or read its neighbour's reading before it.
        feeding = np.flatnonzero(is_input | (fed >= 0))
        held_slots = np.where(is_input, targets, fed)[feeding]
        held_times, held_values = times[feeding], values[feeding]
        held_shifts = shift[feeding]
        self.history.insert(held_slots, held_times, held_values)
        if held_slots.size:
            newest = np.lexsort((held_times, held_slots))
            ends = np.r_[held_slots[newest][1:] != held_slots[newest][:-1], True]
            last_of = newest[ends]
            later = ~(held_times[last_of] <= self.slot_time[held_slots[last_of]])
            self.slot_value[held_slots[last_of][later]] = held_values[last_of][later]
            self.slot_time[held_slots[last_of][later]] = held_times[last_of][later]
            self.slot_shift[held_slots[last_of][later]] = held_shifts[last_of][later]
        reading = role == ZONE
        zones, at, value, weight, arrived = self._with_waiting(
            targets[reading], stamps[reading], values[reading], quality[reading],
            received[reading])
        order = np.lexsort((at, zones))
        zones, at, value, weight, arrived = (zones[order], at[order], value[order],
                                             weight[order], arrived[order])
        # A reading older than its zone's last is left out: the zone cannot step back.
        onward = ~(at < self.bank.columns["time"][zones])
        zones, at, value, weight, arrived = (zones[onward], at[onward], value[onward],
                                             weight[onward], arrived[onward])
        heating_slot = self.heating_slot[zones]
        # Each input's newest event time (NaN: none yet, so not known).
        known = self.slot_time[self.outdoor_slot[zones]]
        has_heating = heating_slot >= 0
        known[has_heating] = np.minimum(known[has_heating],
                                        self.slot_time[heating_slot[has_heating]])
        inputs_known = np.asarray(known >= at, dtype=np.bool_)
        ready = ready_to_step(zones, inputs_known, arrived <= now - WAIT_SECONDS,
                              ZoneBank.WAITING)
        self._wait(zones[~ready], at[~ready], value[~ready], weight[~ready], arrived[~ready])
        zones, at, value, weight = zones[ready], at[ready], value[ready], weight[ready]
        inputs_known = inputs_known[ready]
        outdoor = self.history.as_of(self.outdoor_slot[zones], at)
        heating_slot = heating_slot[ready]
        heating = np.zeros(zones.size)
        heated = heating_slot >= 0
        heating[heated] = self.history.as_of(heating_slot[heated], at[heated])
        usable = np.isfinite(outdoor) & np.isfinite(heating)
        beside, guessed = self._beside(zones, at, outdoor)
        # A zone whose neighbours all went quiet is stepped with their last values held:
        # its parameters do not learn from that step, as with an input past its wait.
        inputs_known &= ~guessed
        # Said in the view: these were stepped with inputs that may still change.
        np.add.at(self.bank.columns["stepped_early"], zones[usable & ~inputs_known], 1)
        told = self.bank.update(zones[usable], at[usable], value[usable], weight[usable],
                                outdoor[usable], heating[usable], inputs_known[usable],
                                beside[usable])
        # Last: a zone this batch stepped is not silent, and one still waiting is not
        # coasted past what it holds back.
        if slots.size:
            self._coast(slots, slot_times)
        return told

    def _with_waiting(self, zones: NDArray[np.int64], at: NDArray[np.float64],
                      value: NDArray[np.float64], weight: NDArray[np.float64],
                      arrived: NDArray[np.float64]) -> tuple[NDArray[Any], ...]:
        """The batch's zone readings and every reading a zone held back (taken out: what
        is still not ready goes back by ``_wait``)."""
        c = self.bank.columns
        if not self.holding:
            return zones, at, value, weight, arrived
        holding = np.flatnonzero(c["waiting"])
        self.holding = 0
        mask = np.arange(ZoneBank.WAITING)[None, :] < c["waiting"][holding][:, None]
        rows, cols = np.nonzero(mask)
        held = holding[rows]
        c["waiting"][holding] = 0
        return (np.r_[zones, held], np.r_[at, c["wait_time"][held, cols]],
                np.r_[value, c["wait_value"][held, cols]],
                np.r_[weight, c["wait_quality"][held, cols]],
                np.r_[arrived, c["wait_received"][held, cols]])

    def _wait(self, zones: NDArray[np.int64], at: NDArray[np.float64],
              value: NDArray[np.float64], weight: NDArray[np.float64],
              arrived: NDArray[np.float64]) -> None:
        """Hold readings back (sorted by zone then time, at most ``WAITING`` a zone)."""
        if zones.size == 0:
            return
        c = self.bank.columns
        starts = np.flatnonzero(np.r_[True, zones[1:] != zones[:-1]])
        sizes = np.diff(np.r_[starts, zones.size])
        rank = np.arange(zones.size) - np.repeat(starts, sizes)
        for name, column in (("wait_time", at), ("wait_value", value),
                             ("wait_quality", weight), ("wait_received", arrived)):
            c[name][zones[starts]] = np.nan
            c[name][zones, rank] = column
        c["waiting"][zones[starts]] = sizes
        # Only after ``_with_waiting`` took every held reading out: these are all there are.
        self.holding = int(starts.size)

    def _coast(self, slots: NDArray[np.int64], slot_times: NDArray[np.float64]) -> None:
        """Coast each zone silent for over ``COAST_AFTER`` on to each input reading's time
        in the batch, with each input as last read before it (its history: the zone's own
        step rule), and only as far as the zone's inputs are known (each has a reading at
        or after that time, as a step waits for) and not past a reading the zone holds back
        for its inputs (the room is not silent there; stepped, it restarts the coast). A
        zone read on time is not coasted: its readings carry it, and coasting every zone
        at every input reading would double the zone step's cost."""
        columns = self.bank.columns
        everyone = np.arange(len(self.zones), dtype=np.int64)
        known = self.slot_time[self.outdoor_slot]
        heated = self.heating_slot >= 0
        known[heated] = np.minimum(known[heated], self.slot_time[self.heating_slot[heated]])
        held = np.where(columns["waiting"] > 0, columns["wait_time"][:, 0], np.inf)
        for at in np.unique(slot_times).tolist():
            with np.errstate(invalid="ignore"):
                silent = everyone[(columns["time"] < at - COAST_AFTER)
                                  & (columns["ahead_time"] < at) & (known >= at)
                                  & (held >= at)]
            if silent.size == 0:
                continue
            when = np.full(silent.size, at)
            outdoor = self.history.as_of(self.outdoor_slot[silent], when)
            heating_slot = self.heating_slot[silent]
            heating = np.zeros(silent.size)
            has = heating_slot >= 0
            heating[has] = self.history.as_of(heating_slot[has], when[has])
            usable = np.isfinite(outdoor) & np.isfinite(heating)
            beside, _ = self._beside(silent, when, outdoor)
            self.bank.coast(silent[usable], when[usable], outdoor[usable], heating[usable],
                            beside[usable])

    def _beside(self, zones: NDArray[np.int64], at: NDArray[np.float64],
                outdoor: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Each zone's neighbours' mean temperature as of ``at`` (each neighbour as last
        read before it, in event time: a neighbour's reading of the step's own time or
        later is not taken, so a neighbour whose readings come late, or stamped ahead,
        is not read from the future) and whether it is a guess. The neighbours read within
        ``NEIGHBOUR_FRESH`` before ``at``; with none, the last values of those ever read,
        held (a guess); with none ever read, ``outdoor``: the share moves nothing then."""
        beside = np.array(outdoor, dtype=np.float64, copy=True)
        guessed = np.zeros(zones.size, dtype=np.bool_)
        start = self.neighbour_start[zones]
        count = self.neighbour_start[zones + 1] - start
        total = int(count.sum())
        if total == 0:
            return beside, guessed
        reading = np.repeat(np.arange(zones.size), count)
        offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        slots = self.neighbour_slots[np.repeat(start, count) + offset]
        value, when = self.history.read_before(slots, at[reading])
        heard = np.isfinite(value)
        fresh = heard & (at[reading] - when <= NEIGHBOUR_FRESH)
        size = zones.size
        fresh_count = np.bincount(reading, fresh, size)
        fresh_sum = np.bincount(reading, np.where(fresh, value, 0.0), size)
        heard_count = np.bincount(reading, heard, size)
        heard_sum = np.bincount(reading, np.where(heard, value, 0.0), size)
        with np.errstate(invalid="ignore", divide="ignore"):
            beside = np.where(fresh_count > 0, fresh_sum / fresh_count,
                              np.where(heard_count > 0, heard_sum / heard_count, beside))
        guessed = (fresh_count == 0) & (heard_count > 0)
        return beside, guessed

    def neighbours_at(self, zones: NDArray[np.int64], at: NDArray[np.float64],
                      outdoor: NDArray[np.float64]) -> NDArray[np.float64]:
        """The neighbours' mean temperature each of ``zones`` takes at ``at`` (``_beside``;
        the outdoor temperature where none was read)."""
        return self._beside(zones, at, outdoor)[0]

    # -- across restarts -------------------------------------------------------------------

    def dump(self) -> bytes | None:
        """The zones' state (on the writer), or None when the zones are off."""
        if not self.enabled:
            return None
        buffer = io.BytesIO()
        columns = self.bank.take(np.arange(len(self.zones), dtype=np.int64))
        arrays: dict[str, Any] = {f"column_{name}": column for name, column in columns.items()}
        arrays |= {"format": np.array(ZONE_FORMAT),
                   "ids": np.array([z.element_id for z in self.zones], dtype=np.str_),
                   "slots": np.array(["\x1f".join(key) for key in self.slots], dtype=np.str_),
                   "slot_value": self.slot_value, "slot_time": self.slot_time,
                   "slot_shift": self.slot_shift,
                   "history_time": self.history.columns["time"],
                   "history_value": self.history.columns["value"]}
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    def _restore(self) -> None:
        body = self.service.store.load_snapshot(ZONE_SNAPSHOT)
        if body is None:
            return
        try:
            with np.load(io.BytesIO(body), allow_pickle=False) as saved:
                version = int(saved["format"]) if "format" in saved.files else 1
                if version > ZONE_FORMAT:
                    raise ValueError(f"saved in format {version}, newer than this "
                                     f"version's {ZONE_FORMAT}")
                ids = [str(i) for i in saved["ids"]]
                # Saved before the zones kept their prior and coasted state: no prior yet
                # (NaN) until the next reading of a new time, rather than the zones
                # learning afresh; saved before zones held readings back: none waits
                # (those columns stay as the fresh rows have them, below); format 1,
                # before the divergence watch: the watch starts afresh (fresh rows too),
                # not diverging, its ring empty.
                columns = {name: saved[f"column_{name}"] for name in ZoneBank.COLUMNS
                           if f"column_{name}" in saved.files}
                for name in ZoneBank.PRIORS:
                    columns.setdefault(name, np.full(len(ids), np.nan))
                for ahead, start in ZoneBank.AHEAD.items():  # not coasted yet
                    columns.setdefault(ahead, columns[start].copy())
                knobs = self.bank.knobs
                if version < 3:
                    unmetered = np.array([e in self.index and self.zones[self.index[e]].heating < 0
                                          for e in ids], dtype=np.bool_)
                    columns = _with_gain(columns, np.where(unmetered, knobs.unmetered_gain_sd,
                                                           knobs.gain_sd))
                if version < 4:
                    columns = _with_share(columns, knobs.share_logit, knobs.share_logit_sd)
                if columns["x"].shape[1:] != self.bank.columns["x"].shape[1:]:
                    raise ValueError(f"saved states of shape {columns['x'].shape[1:]}, "
                                     f"not {self.bank.columns['x'].shape[1:]}")
                slots = [tuple(str(key).split("\x1f")) for key in saved["slots"]]
                slot_value, slot_time = saved["slot_value"], saved["slot_time"]
                # Saved before inputs were moved by their clock: none was.
                slot_shift = (saved["slot_shift"] if "slot_shift" in saved.files
                              else np.zeros(len(slots)))
                # Saved before inputs kept a history: each starts from its latest.
                history = ({"time": saved["history_time"], "value": saved["history_value"]}
                           if "history_time" in saved.files else
                           {"time": np.where(np.isfinite(slot_time), slot_time, np.inf)[:, None],
                            "value": slot_value[:, None]})
            pairs = [(self.index[e], k) for k, e in enumerate(ids) if e in self.index]
            if pairs:
                rows, saved_rows = (np.array(side, dtype=np.int64)
                                    for side in zip(*pairs, strict=True))
                self.bank.put(rows, {name: columns[name][saved_rows] if name in columns
                                     else column[rows]
                                     for name, column in self.bank.columns.items()})
        except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile) as exc:
            # A damaged or older blob: relearning beats trusting it.
            self.bank = ZoneBank(self.bank.knobs)
            self.bank.grow(len(self.zones))
            self._mark_meters()
            self._recount()
            log.warning("saved zone state not used, the zones learn afresh: %s", exc)
            return
        slot_at = {key: k for k, key in enumerate(self.slots)}
        for k, key in enumerate(slots):
            if key in slot_at:
                self.slot_value[slot_at[key]] = slot_value[k]
                self.slot_time[slot_at[key]] = slot_time[k]
                self.slot_shift[slot_at[key]] = slot_shift[k]
                self.history.put(np.array([slot_at[key]]),
                                 {name: column[k:k + 1] for name, column in history.items()})
        self._mark_meters()
        self._recount()
        log.info("zone state restored for %d zones", len(pairs))

    # -- reads -----------------------------------------------------------------------------

    async def of_element(self, element_id: str, hours: float = 6.0) -> dict[str, Any]:
        """The element as a thermal zone (``GET /api/elements/{id}/zone``; ``zone_view``)."""
        return await zone_view(self, element_id, hours)


def _with_state(columns: dict[str, NDArray[Any]], start: float,
                start_sd: float | NDArray[np.float64]) -> dict[str, NDArray[Any]]:
    """Columns saved with one state fewer than the bank holds now, the new state last:
    each zone keeps its state and covariance and starts the new one at ``start``,
    ``start_sd`` unsure (one for all, or each zone's) and uncorrelated; a kept reading's
    state takes ``start`` (an empty slot stays NaN) and a recalibration's before and
    after an unknown (NaN)."""
    out = dict(columns)
    for name in ("x", "ahead_x"):
        if name in out:
            out[name] = np.concatenate([out[name], np.full((len(out[name]), 1), start)],
                                       axis=1)
    for name in ("P", "ahead_P"):
        if name in out:
            old = out[name]
            size = old.shape[1]
            grown = np.zeros((old.shape[0], size + 1, size + 1))
            grown[:, :size, :size] = old
            grown[:, size, size] = np.square(start_sd)
            out[name] = grown
    if "ring_x" in out:
        ring = out["ring_x"]
        out["ring_x"] = np.concatenate(
            [ring, np.where(np.isnan(ring[..., :1]), np.nan, start)], axis=2)
    for name in ("recal_before", "recal_after"):
        if name in out:
            out[name] = np.concatenate([out[name], np.full((len(out[name]), 1), np.nan)],
                                       axis=1)
    return out


def _with_gain(columns: dict[str, NDArray[Any]], gain_sd: NDArray[np.float64]
               ) -> dict[str, NDArray[Any]]:
    """Columns saved before the heat gain was in the state (``[T, ln R, ln C]``): each
    zone starts its gain at 0 K, ``gain_sd`` (a zone's, the prior of a zone with a
    heating meter or without, ``ZoneKnobs``) unsure."""
    return _with_state(columns, 0.0, gain_sd)


def _with_share(columns: dict[str, NDArray[Any]], logit: float, logit_sd: float
                ) -> dict[str, NDArray[Any]]:
    """Columns saved before the neighbours' share was in the state (``[T, ln R, ln C,
    G]``): each zone starts its share at the prior's (``logit``, ``logit_sd`` unsure); its
    kept readings were stepped with no neighbour, so the neighbours' temperature of each
    is the outdoor one."""
    out = _with_state(columns, logit, logit_sd)
    if "ring_outdoor" in out and "ring_neighbour" not in out:
        out["ring_neighbour"] = out["ring_outdoor"].copy()
    return out


def _adjacent(element: Element) -> list[str]:
    """The ids of the spaces the element's ``adjacent_spaces`` names (a list of ids, as
    the IFC import writes it; anything else names none)."""
    declared = element.properties.get(ADJACENT)
    if declared is None or not isinstance(declared.value, list | tuple):
        return []
    return [str(other) for other in declared.value if isinstance(other, str)]


def _is_zone(element: Element) -> bool:
    # A declared ``thermal_zone`` decides either way: a shaft or a cold store modelled as
    # a space is taken out by setting it false.
    declared = element.properties.get("thermal_zone")
    if declared is not None and isinstance(declared.value, bool):
        return declared.value
    return element.type in ZONE_TYPES


def _is_outdoor(element: Element, prop: str) -> bool:
    if prop == OUTDOOR:
        return True
    if prop != AMBIENT:
        return False
    # As for zones, a declared ``outdoor`` decides either way (a building's ambient sensor
    # that hangs in its atrium is not the weather).
    declared = element.properties.get("outdoor")
    if declared is not None and isinstance(declared.value, bool):
        return declared.value
    return element.type in OUTDOOR_TYPES


def _nearest(element: Element, elements: dict[str, Element],
             source_of: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The outdoor source of the element's nearest container that has one."""
    seen = {element.id}
    parent = element.parent
    while parent is not None and parent not in seen:
        if parent in source_of:
            return source_of[parent]
        seen.add(parent)
        container = elements.get(parent)
        parent = None if container is None else container.parent
    return None
