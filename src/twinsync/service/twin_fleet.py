"""Every element's twin state at once, for colouring a model by it (``GET /api/twin/states``):
the worst state of the level/trend models of the sensors bound to it, ``diverging`` over
``in_control`` over ``learning`` over ``off``; a space whose thermal zone is diverging
(``physics/zone_watch.py``) is ``diverging`` too, since the zone's change point if that is
the earliest (``zone``: whether its zone is).

Read on the writer as a view: three columns of the tracker's table taken at the modelled
rows (NumPy, no loop over sensors), grouped by element. Which rows feed which element
changes only with bindings; the grouping is worked out once for each bindings map the desk
publishes (``TwinModelDesk.modelled``, replaced, never changed in place) and kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import numpy as np
from numpy.typing import NDArray

from .views import finite_or_none

if TYPE_CHECKING:
    from .twin_models import TwinModelDesk
    from .twin_service import TwinService

#: The states from best to worst: an element's is its sensors' worst.
STATES = ("off", "learning", "in_control", "diverging")
OFF, LEARNING, IN_CONTROL, DIVERGING = range(4)


class _Grouping:
    """The modelled rows sorted by element, and where each element's run starts."""

    def __init__(self, modelled: dict[int, tuple[str, str, float, float]]) -> None:
        self.source = modelled
        pairs = sorted((key[0], row) for row, key in modelled.items())
        self.rows = np.array([row for _, row in pairs], dtype=np.int64)
        self.element_ids: list[str] = []
        starts: list[int] = []
        for k, (element_id, _) in enumerate(pairs):
            if not self.element_ids or self.element_ids[-1] != element_id:
                self.element_ids.append(element_id)
                starts.append(k)
        self.starts = np.array(starts, dtype=np.int64)


class FleetStates:
    """The fleet's per-element twin states, read on the writer (see the module)."""

    def __init__(self, service: TwinService) -> None:
        self.service = service
        self._grouping: _Grouping | None = None

    def _group(self, desk: TwinModelDesk) -> _Grouping:
        modelled = desk.modelled
        if self._grouping is None or self._grouping.source is not modelled:
            self._grouping = _Grouping(modelled)
        return self._grouping

    def read(self) -> dict[str, Any]:
        """On the writer: each modelled element's state, its sensors' counts by state and
        the earliest start among its diverging sensors."""
        desk = self.service.twin_models
        grouping = self._group(desk)
        rows = grouping.rows
        columns = desk.tracker.columns
        size = len(columns["count"])
        inside = rows < size
        state = np.full(rows.size, LEARNING, dtype=np.int64)
        since = np.full(rows.size, np.nan)
        if not desk.enabled:
            state[:] = OFF
        elif rows.size:
            # A row past the table was never stepped: it is learning, read as fresh.
            at = rows[inside]
            tracking = columns["count"][at] >= desk.tracker.knobs.warmup
            diverging = tracking & (columns["diverging"][at] != 0)
            state[inside] = np.where(diverging, DIVERGING,
                                     np.where(tracking, IN_CONTROL, LEARNING))
            since[inside] = np.where(diverging, columns["diverging_since"][at], np.nan)
        return self._with_zones(self._by_element(grouping, state, since, desk.enabled))

    def _with_zones(self, states: dict[str, Any]) -> dict[str, Any]:
        """The elements whose thermal zone is in a divergence episode marked diverging
        (only those zones are visited: a handful, not the fleet)."""
        zones = self.service.zones
        ids: list[str] = states["element_id"]
        states["zone"] = [False] * len(ids)
        if not zones.enabled or not zones.zones:
            return states
        columns = zones.bank.columns
        episodes = np.flatnonzero(columns["episode"][:len(zones.zones)] > 0)
        if episodes.size == 0:
            return states
        place = {element_id: k for k, element_id in enumerate(ids)}
        counts = states["counts"]
        for zone in episodes.tolist():
            k = place.get(zones.zones[zone].element_id)
            if k is None:
                continue
            states["zone"][k] = True
            counts[states["state"][k]] -= 1
            counts["diverging"] += 1
            states["state"][k] = "diverging"
            since = finite_or_none(float(columns["episode_since"][zone]))
            if since is not None and (states["since"][k] is None or since < states["since"][k]):
                states["since"][k] = since
        return states

    @staticmethod
    def _by_element(grouping: _Grouping, state: NDArray[np.int64], since: NDArray[np.float64],
                    enabled: bool) -> dict[str, Any]:
        starts = grouping.starts
        if starts.size == 0:
            return {"enabled": enabled, "states": list(STATES), "element_id": [], "state": [],
                    "sensors": [], "diverging": [], "since": [],
                    "counts": dict.fromkeys(STATES, 0)}
        worst = np.maximum.reduceat(state, starts)
        sensors = np.diff(np.r_[starts, state.size])
        diverging = np.add.reduceat((state == DIVERGING).astype(np.int64), starts)
        earliest = np.fmin.reduceat(since, starts)
        counts = np.bincount(worst, minlength=len(STATES))
        return {"enabled": enabled, "states": list(STATES),
                "element_id": grouping.element_ids,
                "state": [STATES[k] for k in worst.tolist()],
                "sensors": sensors.tolist(), "diverging": diverging.tolist(),
                "since": [finite_or_none(v) for v in earliest.tolist()],
                "counts": {name: int(counts[k]) for k, name in enumerate(STATES)}}


#: One reader a service, kept with it (and gone with it) to keep its grouping.
_FLEETS: WeakKeyDictionary[TwinService, FleetStates] = WeakKeyDictionary()


async def fleet_states(service: TwinService) -> dict[str, Any]:
    """Each element's twin state (``FleetStates.read``), on the writer."""
    fleet = _FLEETS.get(service)
    if fleet is None:
        fleet = _FLEETS[service] = FleetStates(service)
    return await service.view(fleet.read)
