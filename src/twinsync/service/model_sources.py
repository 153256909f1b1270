"""A model's prediction as a source of a fused property: a thermal zone's air temperature.

The zone (``zone_models.py``) is updated on the same readings that fusion weighs, so its
posterior cannot be fused with them: it would count each reading twice. Two cases, told
apart per property by which of its sensors fusion trusts now (``fusion.sensor_trust``):

- **Trusted sensors whose latest readings the zone took last** (each trusted sensor's
  latest reading is of the zone's latest reading time or newer): the model's source is its
  **prior** at that time, the temperature predicted from the readings before it and
  before any reading of that time (``ZoneBank`` keeps it). Prior fused with those readings
  by inverse variance is the Kalman update itself, so the model adds what it knew before
  them and nothing of them. Its variance is the larger of the filter's and what the prior
  has shown: its mean squared error against the trusted readings of about the last day,
  less the sensors' noise (a room the one-node model does not fit weighs it less).
- **No sensor trusted** (stale, offline, failed, clock off): the sensors are set aside
  (``fusion``: the other sources carry the value alone), so the zone's posterior counts
  nothing twice. Its value is the zone's state **coasted** on through the inputs read
  since its last reading (``ZoneBank.coast``: a zone silent for over an hour is stepped,
  without a reading, to each outdoor or heating reading's time, with each input as last
  read before it, once all its inputs are known to that time) and from there to now with
  the inputs held at their latest. Its variance is the filter's state variance then plus
  the room's random-walk rate (learned from its sensors' rings, as a field measurement's
  age is) times the time since the last input reading it coasted to: over that stretch the
  inputs' changes are not known. It grows with the time since the zone's last reading.

Where a trusted sensor's latest reading is older than the zone's latest reading time (two
sensors read at different times, or a failed one read after a good one), that reading is
inside the prior too: the model is not used, and the view says why. The level/trend tracker
of each sensor is not fed here: it is a model of that one sensor's series, with no input of
its own, so beside that sensor it has nothing to add but the sensor's own past.

A zone whose model is **diverging** from its readings (an episode of its divergence watch,
``physics/zone_watch.py``, from its start until it is back in control) is left out: its
prediction is what the readings have shown to be wrong, and its variance (the filter's, and
the prior's error over a day) does not yet say so. The view gives the reason.

A prediction is shown with the confidence ``MODEL_CONFIDENCE``, below a field
measurement's (0.8): the value comes from a model, and its uncertainty says how far off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .field_sources import OTHER_SOURCES, property_rates
from .fusion import MIN_QUALITY, OtherSources, sensor_trust

if TYPE_CHECKING:
    from ..health import HealthMonitor
    from ..pipeline import SensorTable
    from .fusion import PropertyIndex
    from .zone_models import ZoneDesk

PREDICTION = OTHER_SOURCES.index("prediction")
#: A model's prediction's confidence as a source (a field measurement's is 0.8).
MODEL_CONFIDENCE = 0.6
HOUR = 3600.0


def zone_sources(desk: ZoneDesk, keys: Sequence[tuple[str, str]], numbers: Sequence[int],
                 index: PropertyIndex, table: SensorTable, health: HealthMonitor,
                 now: float, others: OtherSources | None, *, describe: bool = True
                 ) -> tuple[OtherSources | None, list[dict[str, object] | None]]:
    """``others`` with the zones' predictions of the properties ``keys`` (numbered
    ``numbers`` in ``index``) added in the ``prediction`` column, and for each property
    the model as the view shows it (None: no zone models it, or ``describe`` false: the
    live path needs the values alone)."""
    shown: list[dict[str, object] | None] = [None] * len(keys)
    if not desk.enabled or not desk.zones:
        return others, shown
    bank = desk.bank.columns
    # Matched by property number, a pass over the zones rather than over the properties
    # asked: a delta of a large fleet asks for every property that moved, few of them rooms.
    zone_numbers, zone_rows = desk.property_zones(index)
    if zone_numbers.size == 0:
        return others, shown
    asked_all = np.asarray(numbers, dtype=np.int64)
    at = np.minimum(np.searchsorted(zone_numbers, asked_all), zone_numbers.size - 1)
    places = np.flatnonzero(zone_numbers[at] == asked_all)
    if places.size == 0:
        return others, shown
    zones = zone_rows[at[places]]
    asked = asked_all[places]
    group, rows = index.member_rows(asked)
    trusted = sensor_trust(rows, table, health.quality) >= MIN_QUALITY
    any_trusted = np.bincount(group[trusted], minlength=places.size) > 0
    oldest = np.full(places.size, np.inf)
    np.minimum.at(oldest, group[trusted], table.last_event_time[rows[trusted]])
    last = bank["time"][zones]
    prior, prior_variance = bank["prior_mean"][zones], bank["prior_variance"][zones]
    with np.errstate(invalid="ignore"):
        use_prior = (any_trusted & (oldest >= last) & np.isfinite(prior)
                     & (prior_variance > 0.0))
    # The prior's variance is the filter's word; its squared error against the readings,
    # less their noise, is what it has shown: the larger is fused, so a model that misses
    # more than it says does not outweigh good sensors.
    noise = np.full(places.size, np.nan)
    np.fmin.at(noise, group[trusted], health.noise_variance(rows[trusted]))
    shown_variance = bank["prior_error"][zones] - noise
    value = np.where(use_prior, prior, np.nan)
    variance = np.where(use_prior, np.fmax(prior_variance, shown_variance), np.nan)
    age = np.maximum(now - last, 0.0)
    alone = np.flatnonzero(~any_trusted)
    if alone.size:
        heating_slot = desk.heating_slot[zones[alone]]
        outdoor = desk.slot_value[desk.outdoor_slot[zones[alone]]]
        heating = np.where(heating_slot < 0, 0.0, desk.slot_value[np.maximum(heating_slot, 0)])
        # From the state coasted through the inputs read since (``ZoneBank.coast``).
        since = np.maximum(now - bank["ahead_time"][zones[alone]], 0.0)
        beside = desk.neighbours_at(zones[alone], np.full(alone.size, now), outdoor)
        ahead = desk.bank.forecast(zones[alone], since / HOUR, outdoor, heating, coasted=True,
                                   neighbour=beside)
        # The inputs are held at their latest over the gap: how they changed in it is not
        # known, and a heater switched on moves the room by degrees the filter's variance
        # does not hold. The room's own random-walk rate, learned from its sensors' rings
        # as a field measurement's (``field_sources``), bounds that movement.
        rows_of = [index.members[index.starts[n]:index.starts[n + 1]].tolist()
                   for n in asked[alone].tolist()]
        rate = np.nan_to_num(property_rates(rows_of, health), nan=0.0)
        value[alone] = ahead.mean
        variance[alone] = ahead.state_sd ** 2 + rate * since
    if others is None:
        others = OtherSources.empty(len(keys), OTHER_SOURCES)
    diverging = bank["episode"][zones] > 0
    with np.errstate(invalid="ignore"):
        known = np.isfinite(value) & np.isfinite(variance) & (variance > 0.0) & ~diverging
    others.value[places[known], PREDICTION] = value[known]
    others.variance[places[known], PREDICTION] = variance[known]
    others.time[places[known], PREDICTION] = last[known]
    others.confidence[places[known], PREDICTION] = MODEL_CONFIDENCE
    for k, place in enumerate(places.tolist() if describe else ()):
        entry: dict[str, object] = {"model": "thermal_zone", "time": float(last[k]),
                                    "age": float(age[k]), "basis": None, "value": None,
                                    "uncertainty": None, "reason": None}
        if known[k]:
            entry |= {"basis": "prior" if use_prior[k] else "extrapolated",
                      "value": float(value[k]), "uncertainty": math.sqrt(float(variance[k]))}
        elif diverging[k]:
            entry["reason"] = ("the zone's model is diverging from its readings (since "
                               f"{float(bank['episode_since'][zones[k]]):.0f}): not trusted "
                               "until it is back in control")
        elif any_trusted[k]:
            entry["reason"] = ("a trusted sensor's latest reading is already in the model's "
                               "prior: fused again it would count twice")
        else:
            entry["reason"] = "no outdoor temperature or heating to extrapolate with"
        shown[place] = entry
    return others, shown
