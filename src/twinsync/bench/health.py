"""``twinsync bench health``: inject known faults into realistic signals and score the checks.

Signals: every property (an element's ``core_temperature``) has a true value with a daily
cycle, a second harmonic and slow weather; ``--group`` sensors measure it, each with its own
bias, noise and resolution, every 15 minutes at their own offset within the slot. One sensor
in some groups gets faults of one kind at known times: stuck, drift, spike, noise, dropout.
Everything goes through the real pipeline (``Pipeline.accept`` + ``apply``) and the
accepted columns into ``HealthMonitor.update_many``; ``tick`` runs at the end of every slot.

Matching (docs/HEALTH.md): an alarm is a change into a non-ok state. It detects a fault when
its kind matches (stale and offline match dropout) and it falls on the faulty sensor within
the fault's window plus ``GRACE``. The first such alarm detects the fault; later ones in the
same window are ignored; every other alarm is a false positive of its kind.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..health import HealthMonitor, configure_from_twin
from ..model import Binding, Element, Sensor, Twin
from ..pipeline import IncomingBatch, Pipeline, RawReading

KINDS = ("stuck", "drift", "spike", "noise", "dropout")
ALARM_KIND = {"stuck": "stuck", "drift": "drift", "spike": "spike", "noisy": "noise",
              "stale": "dropout", "offline": "dropout"}
STEP = 900.0
DAY = 86_400.0
GRACE = 2 * 3600.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
FIRST_FAULT_DAY = 3.0  # the checks learn each sensor's normal behaviour in two days


@dataclass(slots=True)
class Fault:
    sensor: int
    kind: str
    start: float
    end: float
    size: float  # stuck: unused; drift: rate in noise sd per day; spike: jump; noise: sd factor


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensors", type=int, default=300, help="number of sensors")
    parser.add_argument("--days", type=float, default=30.0, help="simulated days")
    parser.add_argument("--seed", type=int, default=2, help="random seed")
    parser.add_argument("--group", type=int, default=3, help="redundant sensors per property")
    parser.add_argument("--faulty", type=float, default=0.5,
                        help="fraction of properties with one faulty sensor")
    parser.add_argument("--false-alarms", action="store_true",
                        help="also list every false alarm and missed fault, with its reason "
                             "and the faults of its group nearby (to see why)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    steps = round(args.days * DAY / STEP)
    group = max(int(args.group), 1)
    n = max(int(args.sensors) // group, 1) * group
    values, times, noise_sd, resolution = _signals(rng, n, group, steps)
    faults = _inject(rng, values, times, noise_sd, resolution, n, group, steps, args.faulty)

    twin = Twin()
    for g in range(n // group):
        twin.add_element(Element(id=f"slab-{g}", type="IfcSlab"))
    for s in range(n):
        twin.add_sensor(Sensor(id=f"t-{s}", kind="temperature", unit="degC",
                               resolution=float(resolution[s])))
        twin.bind_sensor(Binding(f"t-{s}", f"slab-{s // group}", "core_temperature"))
    pipeline = Pipeline(twin)
    monitor = HealthMonitor()
    configure_from_twin(monitor, twin, pipeline.table)
    sensor_of_row = np.array([int(sid[2:]) for sid in pipeline.table.ids])

    alarms: list[tuple[int, str, float]] = []
    reasons: list[str] = []
    ids = [f"t-{s}" for s in range(n)]
    started = time.perf_counter()
    health_seconds = 0.0
    readings = 0
    for k in range(steps):
        present = np.flatnonzero(~np.isnan(values[:, k]))
        present = present[np.argsort(times[present, k])]
        slot_end = START + (k + 1) * STEP
        incoming = IncomingBatch(
            [RawReading(ids[s], float(values[s, k]), float(times[s, k])) for s in present],
            source="bench", received_at=slot_end + 5.0)
        batch = pipeline.accept(incoming).batch
        pipeline.apply(batch)
        readings += len(batch)
        before = time.perf_counter()
        changes = monitor.update_many(batch.rows, batch.value, batch.event_time)
        ticked = monitor.tick(slot_end)
        health_seconds += time.perf_counter() - before
        for change in changes:
            if change.new != "ok":
                alarms.append((int(sensor_of_row[change.row]), change.new, change.since))
                reasons.append(change.reason)
        for change in ticked:
            alarms.append((int(sensor_of_row[change.row]), change.new, slot_end))
            reasons.append(change.reason)
    elapsed = time.perf_counter() - started
    result = _score(faults, alarms, n, args.days)
    result["run"] = {
        "sensors": n, "days": args.days, "seed": args.seed, "group": group,
        "readings": readings, "faults": len(faults), "seconds": round(elapsed, 2),
        "health_us_per_reading": round(1e6 * health_seconds / max(readings, 1), 2),
    }
    if getattr(args, "false_alarms", False):
        for line in _explain(faults, alarms, reasons, group):
            print(line)
    if not args.json:
        _print(result)
    return result


def _signals(rng: np.random.Generator, n: int, group: int, steps: int) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """True values per property, measured by ``group`` sensors each: values and times."""
    properties = n // group
    hours = np.arange(steps) * STEP / 3600.0
    base = rng.uniform(12.0, 25.0, properties)[:, None]
    amplitude = rng.uniform(0.5, 4.0, properties)[:, None]
    phase = rng.uniform(0.0, 2 * np.pi, properties)[:, None]
    daily = 2 * np.pi * hours / 24.0
    cycle = amplitude * (np.sin(daily + phase) + 0.3 * np.sin(2 * daily + 2 * phase))
    # Weather: smooth swings over days (four waves of 1.5 to 10 days, about 1 degree).
    weather = np.zeros((properties, steps))
    for _ in range(4):
        period = rng.uniform(1.5, 10.0, properties)[:, None] * 24.0
        weather += rng.uniform(0.2, 0.8, properties)[:, None] * np.sin(
            2 * np.pi * hours / period + rng.uniform(0, 2 * np.pi, properties)[:, None])
    truth = np.repeat(base + cycle + weather, group, axis=0)
    noise_sd = rng.uniform(0.03, 0.15, n)
    resolution = rng.choice(np.array([0.01, 0.05, 0.1]), n)
    bias = rng.normal(0.0, 0.2, n)[:, None]
    values = truth + bias + rng.normal(0.0, 1.0, (n, steps)) * noise_sd[:, None]
    offset = rng.uniform(0.0, 120.0, n)[:, None]
    jitter = rng.normal(0.0, 2.0, (n, steps))
    times = START + np.arange(steps)[None, :] * STEP + offset + np.clip(jitter, -5.0, 5.0)
    return values, times, noise_sd, resolution


def _inject(rng: np.random.Generator, values: NDArray[np.float64], times: NDArray[np.float64],
            noise_sd: NDArray[np.float64], resolution: NDArray[np.float64], n: int, group: int,
            steps: int, fraction: float) -> list[Fault]:
    """Faults on one sensor of some groups, one kind per sensor, spaced in time; quantises."""
    properties = n // group
    faulty_groups = rng.permutation(properties)[: round(fraction * properties)]
    faults: list[Fault] = []
    stuck_masks: list[tuple[int, int, int]] = []
    for number, g in enumerate(faulty_groups.tolist()):
        sensor = g * group + int(rng.integers(group))
        kind = KINDS[number % len(KINDS)]
        sd = float(noise_sd[sensor])
        k = int(FIRST_FAULT_DAY * DAY / STEP) + int(rng.integers(0, 96))
        while True:
            if kind == "stuck":
                length = int(rng.uniform(6, 24) * 4)
            elif kind == "drift":
                length = int(rng.uniform(1, 3) * 96)
            elif kind == "spike":
                length = int(rng.integers(1, 3))
            elif kind == "noise":
                length = int(rng.uniform(6, 24) * 4)
            else:
                length = int(rng.uniform(2, 12) * 4)
            end = k + length
            if end >= steps - 8:
                break
            span = slice(k, end)
            if kind == "stuck":
                stuck_masks.append((sensor, k, end))
                size = 0.0
            elif kind == "drift":
                size = float(rng.uniform(2.0, 6.0))
                elapsed = (times[sensor, span] - times[sensor, k]) / DAY
                values[sensor, span] += size * sd * elapsed
            elif kind == "spike":
                size = float(rng.uniform(10, 30) * max(sd, float(resolution[sensor])))
                size *= float(rng.choice(np.array([-1.0, 1.0])))
                values[sensor, span] += size
            elif kind == "noise":
                size = float(rng.uniform(3.0, 6.0))
                values[sensor, span] += rng.normal(0.0, sd * (size - 1.0), length)
            else:
                size = 0.0
                values[sensor, span] = np.nan
            faults.append(Fault(sensor, kind, float(times[sensor, k]),
                                float(times[sensor, end - 1]), size))
            gap_days = rng.uniform(1.0, 2.0) if kind == "spike" else rng.uniform(2.0, 4.0)
            k = end + int(gap_days * 96)
    with np.errstate(invalid="ignore"):
        values[:] = np.round(values / resolution[:, None]) * resolution[:, None]
    for sensor, start, end in stuck_masks:
        values[sensor, start:end] = values[sensor, start - 1]
    return faults


def _score(faults: list[Fault], alarms: list[tuple[int, str, float]], n: int,
           days: float) -> dict[str, Any]:
    by_sensor = _by_sensor(faults)
    detected: dict[int, float] = {}
    false_by_kind = dict.fromkeys(KINDS, 0)
    clean_alarms = 0
    for sensor, state, when in alarms:
        kind = ALARM_KIND[state]
        hit = next((f for f in by_sensor.get(sensor, ()) if _matches(f, kind, when)), None)
        if hit is None:
            false_by_kind[kind] += 1
            clean_alarms += sensor not in by_sensor
        elif id(hit) not in detected:
            detected[id(hit)] = when - hit.start
    per_kind: dict[str, Any] = {}
    for kind in KINDS:
        of_kind = [f for f in faults if f.kind == kind]
        delays = [detected[id(f)] for f in of_kind if id(f) in detected]
        hits = len(delays)
        precision = hits / (hits + false_by_kind[kind]) if hits + false_by_kind[kind] else 1.0
        recall = hits / len(of_kind) if of_kind else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_kind[kind] = {
            "faults": len(of_kind), "detected": hits, "false_alarms": false_by_kind[kind],
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "median_delay_h": round(float(np.median(delays)) / 3600, 2) if delays else None,
        }
    drifts = [f for f in faults if f.kind == "drift"]
    in_a_day = [f for f in drifts if id(f) in detected and detected[id(f)] <= DAY]
    offsets = [f.size * detected[id(f)] / DAY for f in drifts if id(f) in detected]
    clean = n - len(by_sensor)
    return {
        "kinds": per_kind,
        "clean_sensors": clean,
        "false_alarms_clean": clean_alarms,
        "false_alarms_per_100_sensor_days": round(100 * clean_alarms / max(clean * days, 1), 3),
        "drift_found_within_a_day": round(len(in_a_day) / len(drifts), 4) if drifts else None,
        "drift_offset_at_detection_sd_median": round(float(np.median(offsets)), 2)
        if offsets else None,
    }


def _by_sensor(faults: list[Fault]) -> dict[int, list[Fault]]:
    by_sensor: dict[int, list[Fault]] = {}
    for fault in faults:
        by_sensor.setdefault(fault.sensor, []).append(fault)
    return by_sensor


def _matches(fault: Fault, kind: str, when: float) -> bool:
    return fault.kind == kind and fault.start <= when <= fault.end + GRACE


def _explain(faults: list[Fault], alarms: list[tuple[int, str, float]], reasons: list[str],
             group: int) -> list[str]:
    """One line per false alarm (with the faults of its group within 4 days, as
    sensor/kind/hours since that fault began/its length in hours) and per missed fault."""
    by_sensor = _by_sensor(faults)
    lines = []
    found: set[int] = set()
    for (sensor, state, when), why in zip(alarms, reasons, strict=True):
        kind = ALARM_KIND[state]
        hits = [f for f in by_sensor.get(sensor, ()) if _matches(f, kind, when)]
        found.update(id(f) for f in hits)
        if hits:
            continue
        first = sensor // group * group
        near = [f"{f.sensor}/{f.kind}/{(when - f.start) / 3600:+.1f}h/"
                f"{(f.end - f.start) / 3600:.1f}h"
                for peer in range(first, first + group) for f in by_sensor.get(peer, ())
                if abs(when - f.start) < 4 * DAY]
        lines.append(f"false {kind:8} sensor {sensor:5d} day {(when - START) / DAY:6.2f}  "
                     f"{why}  [{', '.join(near)}]")
    for fault in faults:
        if id(fault) not in found:
            lines.append(f"missed {fault.kind:7} sensor {fault.sensor:5d} day "
                         f"{(fault.start - START) / DAY:6.2f}  size {fault.size:.3g}")
    return lines


def _print(result: dict[str, Any]) -> None:
    run = result["run"]
    print(f"sensors {run['sensors']}  days {run['days']}  seed {run['seed']}  "
          f"readings {run['readings']}  faults {run['faults']}  {run['seconds']} s  "
          f"health {run['health_us_per_reading']} us/reading")
    print(f"{'kind':8} {'faults':>6} {'found':>6} {'false':>6} {'prec':>6} {'recall':>6} "
          f"{'F1':>6} {'delay h':>8}")
    for kind, row in result["kinds"].items():
        delay = "-" if row["median_delay_h"] is None else f"{row['median_delay_h']:.2f}"
        print(f"{kind:8} {row['faults']:6d} {row['detected']:6d} {row['false_alarms']:6d} "
              f"{row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} {delay:>8}")
    print(f"false alarms on fault-free sensors: {result['false_alarms_clean']} "
          f"({result['false_alarms_per_100_sensor_days']} per 100 sensor-days)")
    print(f"drift found within a day: {result['drift_found_within_a_day']}  "
          f"(median offset at detection {result['drift_offset_at_detection_sd_median']} sd)")
