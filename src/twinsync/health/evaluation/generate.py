"""``generate(part, seed, days, out_dir)``: a labelled construction site, in the replay format.

Writes into ``out_dir``:

- ``SENSORS.csv``  ``sensor_id,kind,unit,element_id,property,expected_interval_s,resolution,
  source,group``
- ``READINGS.csv`` ``received_at,source,sensor_id,time,value,seq`` in arrival order
- ``LABELS.csv``   ``sensor_id,kind,start,end,magnitude,detail``, one row per injected fault
- ``SITE.json``    the part, seed, days, the period (epoch seconds) and the counts

A sensor with no row in LABELS.csv is fault-free. Each sensor has its own bias, slow wander
(a mean-reverting walk over days), noise, resolution (readings are quantised), interval
(1-15 min) with jitter, and a source whose delivery sets ``received_at`` (a gateway's
latency, a building system polled every 5 minutes, a vibration gateway sending every 10).
``time`` is the device's stamp: the true time, the device clock's small error, and a clock
fault's jump. ``seq`` counts every reading the device made, lost ones too (empty for the
building system, which sends none).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from . import files
from .faults import Label, Planned, Track, apply_stuck, inject, plan
from .params import DAY, HOUR, PARTS, SIGNAL_TYPES, SiteParams
from .signals import SIGNAL_INFO, Group, grid, site_groups

Array = NDArray[np.float64]

#: Short letters in sensor ids, per signal type.
_ID_LETTERS = {"slab": "t", "room_temperature": "t", "room_humidity": "rh", "strain": "sg",
               "outdoor": "t", "vibration": "v"}
#: Sources that deliver in batches: seconds between deliveries.
_BATCHED = {"bms": 300.0, "vib-gw": 600.0}
#: Sources that send no sequence number.
_NO_SEQ = {"bms"}


@dataclass(frozen=True, slots=True)
class Summary:
    part: str
    seed: int
    days: float
    sensors: int
    groups: int
    readings: int
    faults: int
    fault_free_sensors: int
    seconds: float


def generate(part: str, seed: int, days: float, out_dir: Path, sensors: int = 200) -> Summary:
    """Generate one part (``tune`` or ``holdout``) of the evaluation set into ``out_dir``."""
    started = time.perf_counter()
    params = PARTS[part]
    rng = np.random.default_rng([params.stream, seed])
    seconds = grid(days)
    sizes = _layout(rng, params, sensors)
    groups = site_groups(rng, params, seconds, {s: len(v) for s, v in sizes.items()})
    tracks, members, sources, intervals = _sensors(rng, params, groups, sizes, seconds, days)
    same_type = [[n for n, g in enumerate(groups) if g.signal == group.signal]
                 for group in groups]
    planned = plan(rng, params, groups, members, days, [len(s) > 1 for s in same_type])
    group_of = {sensor: number for number, group in enumerate(members) for sensor in group}
    labels: list[Label] = []
    for fault in sorted(planned, key=lambda f: (f.sensor, f.start)):
        number = group_of[fault.sensor]
        label = inject(rng, params, tracks[fault.sensor], fault, params.start,
                       _next_bay(groups, same_type[number], number, seconds,
                                 tracks[fault.sensor], fault))
        if label is not None:
            labels.append(label)
    for track in tracks:
        if track.kind == "vibration":
            np.clip(track.value, 0.0, None, out=track.value)  # an RMS is never negative
        elif track.kind == "humidity":
            np.clip(track.value, 0.0, 100.0, out=track.value)  # the sensor saturates
        track.value[:] = np.round(track.value / track.resolution) * track.resolution
        apply_stuck(rng, track)
    out_dir.mkdir(parents=True, exist_ok=True)
    files.write_sensors(out_dir / "SENSORS.csv", [
        files.SensorRow(t.sensor_id, t.kind, SIGNAL_INFO[t.signal][1],
                        groups[group_of[n]].element_id, SIGNAL_INFO[t.signal][2],
                        intervals[n], t.resolution, sources[n], groups[group_of[n]].name)
        for n, t in enumerate(tracks)])
    readings = _write_readings(rng, params, tracks, sources, out_dir / "READINGS.csv")
    files.write_events(out_dir / "EVENTS.csv", _declared(groups, members, params.start))
    labels.sort(key=lambda label: (label.start, label.sensor_id))
    files.write_labels(out_dir / "LABELS.csv", labels)
    faulty = {label.sensor_id for label in labels}
    summary = Summary(part, seed, days, len(tracks), len(groups), readings, len(labels),
                      len(tracks) - len(faulty), round(time.perf_counter() - started, 2))
    site = {"part": part, "seed": seed, "days": days, "start": params.start,
            "end": params.start + days * DAY, "sensors": len(tracks), "groups": len(groups),
            "readings": readings, "faults": len(labels),
            "fault_free_sensors": summary.fault_free_sensors}
    (out_dir / "SITE.json").write_text(json.dumps(site, indent=1) + "\n")
    return summary


#: The transients a site plans and so would declare to its twin (from the schedule), with
#: how long each concerns its sensors: a pour's hydration heat rises for a day or two and
#: fades over days; a load step ramps in hours and the column settles within a day. Set
#: from those physical spans, not fitted: weather, doors, heating and work-hours bursts are
#: not declared (nobody plans them, or they are every day's).
DECLARED = {"pour": 72 * HOUR, "load step": 24 * HOUR}


def _declared(groups: list[Group], members: list[list[int]], start: float
              ) -> list[tuple[str, float, float, str]]:
    """The declared events of the groups that have sensors, in time order."""
    events = [(group.name, start + when, start + when + DECLARED[kind], kind)
              for group, sensors in zip(groups, members, strict=True) if sensors
              for when, kind in group.events if kind in DECLARED]
    return sorted(events, key=lambda event: (event[1], event[0]))


def _layout(rng: np.random.Generator, p: SiteParams, sensors: int) -> dict[str, list[int]]:
    """Group sizes per signal type, about ``sensors`` in all (at least one group a type)."""
    sizes: dict[str, list[int]] = {}
    weights = np.array(p.group_size_weights) / sum(p.group_size_weights)
    for signal in SIGNAL_TYPES:
        target = max(round(sensors * p.type_shares.get(signal, 0.0)), 1)
        drawn: list[int] = []
        while sum(drawn) < target:
            drawn.append(int(rng.choice(np.array(p.group_sizes), p=weights)))
        sizes[signal] = drawn
    return sizes


def _sensors(rng: np.random.Generator, p: SiteParams, groups: list[Group],
             sizes: dict[str, list[int]], seconds: Array, days: float
             ) -> tuple[list[Track], list[list[int]], list[str], list[float]]:
    """Every sensor's clean readings at its own times: truth as it sees it, bias, wander,
    noise (quantised later, after the faults)."""
    interval_weights = np.array(p.interval_weights) / sum(p.interval_weights)
    count = sum(sum(v) for v in sizes.values())
    wander = _wander(rng, p, count, days)
    tracks: list[Track] = []
    members: list[list[int]] = []
    sources: list[str] = []
    intervals: list[float] = []
    end = days * DAY
    for group in groups:
        kind, _, _, _, source = SIGNAL_INFO[group.signal]
        members.append([])
        for k in range(sizes[group.signal][group.index]):
            number = len(tracks)
            interval = float(rng.choice(np.array(p.intervals_s), p=interval_weights))
            steps = int(end // interval)
            jitter = np.clip(rng.normal(0.0, p.jitter_s, steps), -3 * p.jitter_s, 3 * p.jitter_s)
            times = np.sort(rng.uniform(0.0, interval) + np.arange(steps) * interval + jitter)
            times = times[(times >= 0.0) & (times < end)]
            factor = rng.uniform(*p.transient_factor[group.signal])
            truth = (np.interp(times, seconds, group.base)
                     + factor * np.interp(times, seconds, group.transient))
            noise = rng.uniform(*p.noise[group.signal])
            own = rng.normal(0.0, p.bias[group.signal]) + wander[number](times) * p.wander[
                group.signal]
            if group.signal == "vibration":
                # Vibration noise is relative: the RMS of a random signal over a short window.
                value = truth * np.exp(noise * rng.normal(size=len(times))) + abs(own)
                noise_sd = noise * float(np.median(truth))
            else:
                value = truth + own + rng.normal(0.0, noise, len(times))
                noise_sd = noise
            resolution = float(rng.choice(np.array(p.resolution[group.signal])))
            tracks.append(Track(
                f"{group.element_id}-{_ID_LETTERS[group.signal]}{k + 1}", kind, group.signal,
                resolution, noise_sd, times, truth, value, np.ones(len(times), dtype=bool),
                np.full(len(times), rng.uniform(-2.0, 2.0)), factor))
            members[-1].append(number)
            sources.append(source)
            intervals.append(interval)
    return tracks, members, sources, intervals


def _wander(rng: np.random.Generator, p: SiteParams, count: int, days: float
            ) -> list[Callable[[Array], Array]]:
    """Per sensor, a unit-sd mean-reverting walk on an hourly grid (time scale of days)."""
    hours = int(days * 24) + 2
    rho = np.exp(-1.0 / (rng.uniform(*p.wander_days, count) * 24.0))
    walk = np.empty((count, hours))
    walk[:, 0] = rng.normal(size=count)
    shocks = rng.normal(size=(count, hours)) * np.sqrt(1.0 - rho**2)[:, None]
    for hour in range(1, hours):
        walk[:, hour] = rho * walk[:, hour - 1] + shocks[:, hour]
    axis = np.arange(hours) * HOUR

    def at(row: Array) -> Callable[[Array], Array]:
        return lambda times: np.interp(times, axis, row)

    return [at(walk[n]) for n in range(count)]


def _next_bay(groups: list[Group], same_type: list[int], number: int, seconds: Array,
              track: Track, fault: Planned) -> Callable[[Array], Array] | None:
    """What the sensor reads when wired to the next group of its signal type."""
    if fault.kind != "crosswire" or len(same_type) < 2:
        return None
    other = groups[same_type[(same_type.index(number) + 1) % len(same_type)]]
    def read(times: Array) -> Array:
        return np.asarray(np.interp(times, seconds, other.base)
                          + track.factor * np.interp(times, seconds, other.transient))

    return read


def _write_readings(rng: np.random.Generator, p: SiteParams, tracks: list[Track],
                    sources: list[str], path: Path) -> int:
    """All kept readings in arrival order (``received_at``, then device time)."""
    received_parts, time_parts, value_parts, seq_parts, who = [], [], [], [], []
    for number, (track, source) in enumerate(zip(tracks, sources, strict=True)):
        kept = np.flatnonzero(track.keep)
        true = track.times[kept]
        if source in _BATCHED:
            every = _BATCHED[source]
            received = np.ceil((true + 1.0) / every) * every + rng.uniform(0.2, 2.0, len(kept))
        else:
            received = true + 0.2 + rng.exponential(p.latency_s, len(kept))
        decimals = _decimals(track.resolution)
        received_parts.append(p.start + received)
        time_parts.append(p.start + true + track.clock[kept])
        value_parts.append(np.round(track.value[kept], decimals))
        seq_parts.append(np.full(len(kept), -1) if source in _NO_SEQ else kept)
        who.append(np.full(len(kept), number))
    received = np.concatenate(received_parts)
    device = np.concatenate(time_parts)
    order = np.lexsort((device, received))
    files.write_readings(path, received[order], device[order], np.concatenate(who)[order],
                         [t.sensor_id for t in tracks], sources,
                         np.concatenate(value_parts)[order], np.concatenate(seq_parts)[order])
    return len(order)


def _decimals(resolution: float) -> int:
    """Decimals that write every multiple of ``resolution`` exactly (0.0625: 4)."""
    for decimals in range(10):
        scaled = resolution * 10**decimals
        if abs(scaled - round(scaled)) < 1e-9 * max(scaled, 1.0):
            return decimals
    return 10
