"""A thermal zone as ``GET /api/elements/{id}/zone`` gives it (``ZoneDesk.of_element``):
whether the element is modelled or why not, its estimated temperature, R, C, time
constant and heat gain with their standard deviations, its neighbours and the share of its
loss that goes to them (with the resistances to the outdoors and to the neighbours apart),
how far its prior misses, its divergence watch, its inputs, and the model's temperature
some hours on (the forecast route's, ``zone_forecasts``, once the zone and its inputs have
taken enough readings).
Read on the writer's snapshot (``service.view``); the forecast's store read runs off it."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInput, NotFound
from ..model import validate
from ..physics.zone_watch import WATCH_AFTER
from .views import finite_or_none
from .zone_forecasts import COVERAGE, ZoneStart, answer, stored, zone_start

if TYPE_CHECKING:
    from .zone_models import ZoneDesk

#: The 90 % interval's half-width in standard deviations.
Z90 = 1.6449
MAX_HOURS = 168.0
#: The property a zone's readings and forecast are of.
AIR = "air_temperature"

__all__ = ["MAX_HOURS", "identifiable", "parameters", "zone_view"]


async def zone_view(desk: ZoneDesk, element_id: str, hours: float = 6.0) -> dict[str, Any]:
    """The element as a thermal zone: whether it is modelled (or why not), its
    estimated R, C and time constant, its temperature now and ``hours`` after its last
    reading (``GET /api/elements/{id}/zone``): the forecast route's (``zone_forecasts``),
    the inputs persisted with their spread, once the zone and its inputs have taken
    enough readings; before, with the inputs held as known (``inputs``: ``held``)."""
    if not (0.0 < hours <= MAX_HOURS) or not math.isfinite(hours):
        raise InvalidInput(f"hours must be over 0 and at most {MAX_HOURS:g}",
                           "bad_parameter")

    def read() -> tuple[dict[str, Any], ZoneStart | None]:
        element = desk.service.twin.elements.get(element_id)
        if element is None or element.archived:
            raise NotFound(f"no element {validate.shown(element_id)}")
        base: dict[str, Any] = {"element_id": element_id, "enabled": desk.enabled}
        if not desk.enabled:
            return base | {"modelled": False, "reason": "zone models are off"}, None
        k = desk.index.get(element_id)
        if k is None:
            declared = element.properties.get("thermal_zone")
            reason = desk.reasons.get(element_id) or (
                "its thermal_zone property is false"
                if declared is not None and declared.value is False
                else "not a space (IfcSpace, or thermal_zone)")
            return base | {"modelled": False, "reason": reason}, None
        start = zone_start(desk.service, element_id, AIR)
        held = start is None
        state = base | {"modelled": True, "reason": None} | _zone_state(desk, k, hours, held)
        return state, start

    state, start = await desk.service.view(read)
    if start is not None and state["forecast"] is not None:
        # The forecast route's: the inputs persisted with their stored readings' spread
        # (taken as known, the interval held 8 % of readings a day ahead in the bench).
        ahead = await asyncio.to_thread(
            lambda: answer(stored(start, desk.service.store.history), hours * 3600.0, 1,
                           (), None, COVERAGE))
        state["forecast"] |= {
            "temperature": finite_or_none(ahead["mean"][0]),
            "sd": finite_or_none(ahead["deviation"][0]),
            "low": finite_or_none(ahead["low"][0]),
            "high": finite_or_none(ahead["high"][0]), "inputs": "persisted"}
    return state

def _divergence(desk: ZoneDesk, k: int) -> dict[str, Any]:
    """The zone's divergence watch: ``learning`` before it is watched, else
    ``in_control`` or ``diverging`` (since the change point), the CUSUM's statistic, the
    last normalised innovation, the episodes so far and the last recalibration."""
    c = desk.bank.columns
    heated = desk.zones[k].heating >= 0
    diverging = bool(c["episode"][k] > 0)
    state = ("diverging" if diverging else "in_control") if (
        c["count"][k] >= WATCH_AFTER) else "learning"
    recalibration = None
    if int(c["recal_count"][k]) > 0:
        recalibration = {"time": float(c["recal_time"][k]),
                         "count": int(c["recal_count"][k]),
                         "window": int(c["recal_window"][k]),
                         "before": parameters(c["recal_before"][k], heated),
                         "after": parameters(c["recal_after"][k], heated)}
    return {"state": state,
            "since": finite_or_none(float(c["episode_since"][k])) if diverging else None,
            "statistic": float(max(c["watch_upper"][k], c["watch_lower"][k])),
            "last_normalised": finite_or_none(float(c["last_normalised"][k])),
            "episodes": int(c["episodes"][k]), "recalibration": recalibration}

def _neighbours(desk: ZoneDesk, k: int, x: NDArray[np.float64] | None,
                P: NDArray[np.float64] | None, heated: bool) -> dict[str, Any]:
    """The zone's neighbours (each neighbour's latest air temperature) and what the zone
    has learned of them: the share ``s`` of its loss that goes to them (with its sd, by
    the logit's), and, where R is told (a heating meter), the resistance to the outdoors
    alone ``R / (1 - s)`` and to the neighbours ``R / s``. The share is the prior's until
    a neighbour is read (nothing moves it before)."""
    zone = desk.zones[k]
    listed = [_source(desk, slot) for slot in zone.neighbours]
    out: dict[str, Any] = {"neighbours": listed, "neighbour_share": None,
                           "neighbour_share_sd": None, "resistance_outdoor": None,
                           "resistance_neighbours": None}
    if x is None or P is None or not zone.neighbours:
        return out
    share = 1.0 / (1.0 + math.exp(-float(x[4])))
    out["neighbour_share"] = finite_or_none(share)
    out["neighbour_share_sd"] = finite_or_none(
        share * (1.0 - share) * math.sqrt(max(float(P[4, 4]), 0.0)))
    if heated:
        resistance = math.exp(float(x[1]))
        out["resistance_outdoor"] = finite_or_none(resistance / (1.0 - share))
        out["resistance_neighbours"] = finite_or_none(resistance / share)
    return out


def _source(desk: ZoneDesk, slot: int) -> dict[str, Any] | None:
    if slot < 0:
        return None
    element, prop = desk.slots[slot]
    return {"element_id": element, "property": prop,
            "value": finite_or_none(float(desk.slot_value[slot])),
            "time": finite_or_none(float(desk.slot_time[slot])),
            "clock_corrected_by": float(desk.slot_shift[slot])}

def _zone_state(desk: ZoneDesk, k: int, hours: float, held: bool) -> dict[str, Any]:
    """The zone's row as the view gives it; its forecast's temperature with the inputs
    held only when ``held`` (else the forecast route's fills it in, off the snapshot)."""
    zone = desk.zones[k]
    c = desk.bank.columns
    count = int(c["count"][k])
    heated = zone.heating >= 0
    state: dict[str, Any] = {
        "sensors": list(zone.sensors), "outdoor": _source(desk, zone.outdoor),
        "heating": _source(desk, zone.heating),
        "identifiable": identifiable(heated),
        "readings": count, "last_time": finite_or_none(float(c["time"][k])),
        # Readings held back until the inputs of their time are known, and those
        # stepped after waiting their bound with the inputs known then.
        "waiting": int(c["waiting"][k]),
        "stepped_before_inputs_known": int(c["stepped_early"][k]),
        "divergence": _divergence(desk, k),
        "temperature": None, "temperature_sd": None, "resistance": None,
        "resistance_sd": None, "capacitance": None, "capacitance_sd": None,
        "time_constant_hours": None, "time_constant_sd": None, "gain": None,
        "gain_sd": None, "misfit": None, "forecast": None}
    state |= _neighbours(desk, k, None, None, heated)
    if count == 0:
        return state
    x, P = c["x"][k], c["P"][k]
    state |= _neighbours(desk, k, x, P, heated)
    tau = math.exp(float(x[1] + x[2]))
    tau_log_var = max(float(P[1, 1] + P[2, 2] + 2 * P[1, 2]), 0.0)
    state |= {"temperature": finite_or_none(float(x[0])),
              "temperature_sd": finite_or_none(math.sqrt(max(float(P[0, 0]), 0.0))),
              "time_constant_hours": finite_or_none(tau),
              "time_constant_sd": finite_or_none(tau * math.sqrt(tau_log_var)),
              # the degrees the room holds above what outdoors and heating explain
              "gain": finite_or_none(float(x[3])),
              "gain_sd": finite_or_none(math.sqrt(max(float(P[3, 3]), 0.0))),
              "misfit": finite_or_none(misfit(desk, k))}
    if heated:
        # R and C alone are learned only when the heating is known (with Φ = 0 the
        # readings tell R·C and nothing of how it splits).
        for name, i in (("resistance", 1), ("capacitance", 2)):
            value = math.exp(float(x[i]))
            state[name] = finite_or_none(value)
            state[f"{name}_sd"] = finite_or_none(value * math.sqrt(max(float(P[i, i]), 0)))
    outdoor = float(desk.slot_value[zone.outdoor])
    heating = float(desk.slot_value[zone.heating]) if heated else 0.0
    if math.isfinite(outdoor) and math.isfinite(heating):
        # The neighbours as last read before the zone's next moment (the outdoor's where
        # none was read), held as the other inputs are.
        beside = float(desk.neighbours_at(np.array([k]), np.array([np.nextafter(
            float(c["time"][k]), np.inf)]), np.array([outdoor]))[0])
        state["forecast"] = {
            "hours": hours, "time": float(c["time"][k]) + hours * 3600.0,
            "outdoor_temperature": outdoor, "heating_kw": heating,
            "neighbour_temperature": beside if zone.neighbours else None, "inputs": "held",
            "temperature": None, "sd": None, "low": None, "high": None}
        if held:
            ahead = desk.bank.forecast(np.array([k]), np.array([hours]), np.array([outdoor]),
                                       np.array([heating]), neighbour=np.array([beside]))
            mean, spread = float(ahead.mean[0]), float(ahead.reading_sd[0])
            state["forecast"] |= {
                "temperature": finite_or_none(mean), "sd": finite_or_none(spread),
                "low": finite_or_none(mean - Z90 * spread),
                "high": finite_or_none(mean + Z90 * spread)}
    return state


def misfit(desk: ZoneDesk, k: int) -> float:
    """The zone's prior's mean squared error over about the last day against the variance
    it claims (the prior's and a reading's noise): NaN before any was judged. Above
    ``zone_forecasts.MISFIT`` the forecast route answers by the level/trend."""
    return float(desk.bank.misfit(np.array([k]))[0])


def identifiable(heated: bool) -> str:
    """Which of R, C and τ the readings can tell: R and C only where the heating is known."""
    return "resistance_and_capacitance" if heated else "time_constant"


def parameters(state: NDArray[np.float64], heated: bool) -> dict[str, float | None]:
    """A state ``[T, ln R, ln C, G, logit s]`` as the events and the view give it: R and
    C only where the heating is known (else τ alone is learned); the heat gain G (K) and
    the neighbours' share s always (null for a recalibration recorded before the zones
    had them)."""
    log_r, log_c = float(state[1]), float(state[2])
    return {"temperature": finite_or_none(float(state[0])),
            "time_constant_hours": finite_or_none(math.exp(log_r + log_c)),
            "gain": finite_or_none(float(state[3])),
            "neighbour_share": finite_or_none(1.0 / (1.0 + math.exp(-float(state[4]))))
            if math.isfinite(float(state[4])) else None,
            "resistance": finite_or_none(math.exp(log_r)) if heated else None,
            "capacitance": finite_or_none(math.exp(log_c)) if heated else None}
