"""``score(labels, states, sensors, ...)``: health states scored against injected faults.

Matching (docs/HEALTH.md, "Evaluation set"), the rule of ``twinsync bench health`` widened
to the fault kinds that have no state of their own:

- An alarm is a STATES.csv row whose state is not ``ok``, dated by its ``time``. Alarms
  after the set's period (SITE.json's ``end``) are left out and only counted
  (``alarms_after_end``): the set's sensors stop there together, while some deliveries
  (a gateway's buffer) still arrive minutes later and move the replay's clock on, so
  every sensor that reads each minute falls silent at once. That silence is the data
  set's end, not the sensors'.
- A fault accepts an alarm when the alarm's state is one of ``ACCEPTED_STATES[kind]``, or
  its reason names the fault (``NAMED_BY[kind]``: a "clock" or a future "cross-wired" reason),
  and it falls on the faulty sensor between the fault's start and its end + ``GRACE``. For
  a clock fault the window opens ``|shift|`` earlier: alarms may be dated by the shifted
  device clock.
- The first accepted alarm detects the fault (delay = alarm time - start, at least 0);
  accepted alarms after it are repeats and ignored. When one alarm is accepted by several
  faults of the sensor, it detects the earliest one not yet detected.
- Every other alarm is false: on a fault-free sensor, on a faulty sensor outside all its
  windows, or in a fault's window but of a state that fault does not accept.
- Per fault kind: recall = detected / faults; precision = detected / (detected + false
  alarms that kind would have accepted); F1. Kinds that share a state (drift, offset and
  crosswire all accept ``drift``) share its false alarms.
- False alarms per 100 fault-free sensor-days count the false alarms on sensors with no
  label, over the set's period (SITE.json), overall, per signal type, per state and per
  cause (the reason with its numbers taken out).
- With QUALITIES.csv: per kind, the share of a fault's readings with quality below the
  fusion threshold (``MIN_QUALITY``), over the whole window and from the fault's first
  detection to its end; and the same share on fault-free sensors (what it costs).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .faults import FAULT_KINDS, Label
from .files import Qualities, SensorRow, StateRow
from .params import DAY, HOUR
from .signals import SIGNAL_INFO

#: The fusion threshold (``twinsync.service.fusion.MIN_QUALITY``): below it a reading is
#: not used for the property's value. Repeated, not imported: the service package pulls in
#: the whole running twin; ``tests/health/evaluation`` checks that the two agree.
MIN_QUALITY = 0.5

GRACE = 2 * HOUR  # as ``twinsync bench health``

ACCEPTED_STATES: dict[str, tuple[str, ...]] = {
    "stuck": ("stuck",),
    "drift": ("drift",),
    "spike": ("spike",),
    "noise": ("noisy",),
    "dropout": ("stale", "offline"),
    "offset": ("drift",),
    "crosswire": ("drift",),
    "clock": ("clock",),
}
NAMED_BY: dict[str, tuple[str, ...]] = {
    "clock": ("clock",),
    "crosswire": ("cross-wir", "crosswir", "wired to", "swapped"),
    "offset": ("calibration", "offset step"),
}
_PROPERTY_SIGNAL = {info[2]: signal for signal, info in SIGNAL_INFO.items()}


@dataclass(slots=True)
class _Alarm:
    time: float
    sensor_id: str
    state: str
    reason: str
    verdict: str = ""      # "detects", "repeat", "fault-free", "outside", "wrong kind"


def signal_of(sensor: SensorRow) -> str:
    """A sensor's signal type: by its property when it is one of the site's, else its kind."""
    return _PROPERTY_SIGNAL.get(sensor.property, sensor.kind)


def accepts(label: Label, state: str, reason: str) -> bool:
    """Would an alarm of this state and reason count for a fault of this kind?"""
    if state in ACCEPTED_STATES.get(label.kind, ()):
        return True
    text = reason.lower()
    return any(word in text for word in NAMED_BY.get(label.kind, ()))


def _lead(label: Label) -> float:
    return abs(label.magnitude) if label.kind == "clock" else 0.0


def _in_window(label: Label, when: float) -> bool:
    return label.start - _lead(label) <= when <= label.end + GRACE


def score(labels: list[Label], states: list[StateRow], sensors: list[SensorRow],
          qualities: Qualities | None = None,
          span: tuple[float, float] | None = None) -> dict[str, Any]:
    """Score ``states`` against ``labels``; ``span`` is the set's period (epoch seconds;
    alarms after it are left out), else the period the states and qualities cover."""
    known = {sensor.sensor_id: sensor for sensor in sensors}
    given = span is not None
    if span is None:
        times = [row.time for row in states]
        if qualities is not None and len(qualities.time):
            times += [float(qualities.time.min()), float(qualities.time.max())]
        span = (min(times), max(times)) if times else (0.0, DAY)
    days = max(span[1] - span[0], 1.0) / DAY
    by_sensor: dict[str, list[Label]] = {}
    for label in sorted(labels, key=lambda item: item.start):
        by_sensor.setdefault(label.sensor_id, []).append(label)
    raised = [row for row in states if row.state != "ok" and row.sensor_id in known]
    after_end = sum(row.time > span[1] for row in raised) if given else 0
    alarms = sorted((_Alarm(row.time, row.sensor_id, row.state, row.reason) for row in raised
                     if not (given and row.time > span[1])),
                    key=lambda alarm: (alarm.sensor_id, alarm.time))
    detected = _match(alarms, by_sensor)
    signals = sorted({signal_of(s) for s in sensors}, key=_signal_order)
    result: dict[str, Any] = {
        "run": {"sensors": len(sensors), "faults": len(labels),
                "fault_free_sensors": sum(s.sensor_id not in by_sensor for s in sensors),
                "days": round(days, 3), "alarms": len(alarms),
                "alarms_after_end": after_end,
                "states_of_unknown_sensors": sum(row.sensor_id not in known
                                                 for row in states)},
        **_tables(labels, alarms, detected, sensors, by_sensor, days),
        "signals": {},
        "states": _per_state(alarms),
    }
    for signal in signals:
        chosen = [s for s in sensors if signal_of(s) == signal]
        ids = {s.sensor_id for s in chosen}
        result["signals"][signal] = _tables(
            [label for label in labels if label.sensor_id in ids],
            [alarm for alarm in alarms if alarm.sensor_id in ids], detected, chosen,
            by_sensor, days)
    result["missed"] = [
        {"sensor_id": f.sensor_id, "signal": signal_of(known[f.sensor_id]) if f.sensor_id
         in known else "", "kind": f.kind, "start": f.start, "hours": round(
             (f.end - f.start) / HOUR, 2), "magnitude": f.magnitude, "detail": f.detail}
        for f in labels if id(f) not in detected]
    result["quality"] = (None if qualities is None
                         else _quality(labels, detected, by_sensor, sensors, qualities))
    return result


def _match(alarms: list[_Alarm], by_sensor: dict[str, list[Label]]
           ) -> dict[int, float]:
    """Give every alarm its verdict; the detection time of each detected fault (by id)."""
    detected: dict[int, float] = {}
    for alarm in alarms:
        faults = by_sensor.get(alarm.sensor_id, [])
        accepting = [f for f in faults
                     if _in_window(f, alarm.time) and accepts(f, alarm.state, alarm.reason)]
        fresh = [f for f in accepting if id(f) not in detected]
        if fresh:
            detected[id(fresh[0])] = alarm.time
            alarm.verdict = "detects"
        elif accepting:
            alarm.verdict = "repeat"
        elif not faults:
            alarm.verdict = "fault-free"
        elif any(_in_window(f, alarm.time) for f in faults):
            alarm.verdict = "wrong kind"
        else:
            alarm.verdict = "outside"
    return detected


def _tables(labels: list[Label], alarms: list[_Alarm], detected: dict[int, float],
            sensors: list[SensorRow], by_sensor: dict[str, list[Label]], days: float
            ) -> dict[str, Any]:
    """Per fault kind and for false alarms, over the given labels, alarms and sensors."""
    false = [a for a in alarms if a.verdict in ("fault-free", "outside", "wrong kind")]
    kinds: dict[str, Any] = {}
    for kind in FAULT_KINDS:
        of_kind = [label for label in labels if label.kind == kind]
        probe = Label("", kind, 0.0, 0.0, 0.0, "")
        against = sum(accepts(probe, a.state, a.reason) for a in false)
        delays = [max(detected[id(f)] - f.start, 0.0) for f in of_kind if id(f) in detected]
        hits = len(delays)
        precision = hits / (hits + against) if hits + against else None
        recall = hits / len(of_kind) if of_kind else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision is not None and recall is not None and precision + recall else
              (0.0 if of_kind else None))
        kinds[kind] = {
            "faults": len(of_kind), "detected": hits, "false_alarms": against,
            "precision": _rounded(precision), "recall": _rounded(recall), "f1": _rounded(f1),
            "median_delay_h": round(float(np.median(delays)) / HOUR, 2) if delays else None,
        }
    clean = [s for s in sensors if s.sensor_id not in by_sensor]
    on_clean = [a for a in false if a.verdict == "fault-free"]
    per_100 = 100.0 * len(on_clean) / (len(clean) * days) if clean else None
    return {
        "kinds": kinds,
        "false_alarms": {
            "fault_free_sensors": len(clean),
            "on_fault_free_sensors": len(on_clean),
            "per_100_fault_free_sensor_days": _rounded(per_100, 3),
            "on_faulty_sensors_outside_windows": sum(a.verdict == "outside" for a in false),
            "in_a_window_of_a_state_it_does_not_accept": sum(a.verdict == "wrong kind"
                                                            for a in false),
            "fault_free_by_state": dict(Counter(a.state for a in on_clean).most_common()),
            "fault_free_by_cause": Counter(_cause(a.reason) for a in on_clean).most_common(10),
        },
    }


def _per_state(alarms: Iterable[_Alarm]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for alarm in alarms:
        row = table.setdefault(alarm.state, {"alarms": 0, "detects": 0, "repeat": 0,
                                             "fault-free": 0, "outside": 0, "wrong kind": 0})
        row["alarms"] += 1
        row[alarm.verdict] += 1
    return table


def _quality(labels: list[Label], detected: dict[int, float],
             by_sensor: dict[str, list[Label]], sensors: list[SensorRow],
             qualities: Qualities) -> dict[str, Any]:
    """Shares of readings below ``MIN_QUALITY``: in faults' windows (all of it, and from
    the first detection on) and on fault-free sensors."""
    row_of = {sensor_id: n for n, sensor_id in enumerate(qualities.sensor_ids)}
    order = np.lexsort((qualities.time, qualities.sensor))
    sensor = qualities.sensor[order]
    times = qualities.time[order]
    low = qualities.quality[order] < MIN_QUALITY
    bounds = np.searchsorted(sensor, np.arange(len(row_of) + 1))

    def readings(sensor_id: str, start: float, end: float) -> tuple[int, int]:
        row = row_of.get(sensor_id)
        if row is None or end < start:  # a fault named only after its last reading
            return 0, 0
        first, last = bounds[row], bounds[row + 1]
        begin = first + int(np.searchsorted(times[first:last], start, side="left"))
        stop = first + int(np.searchsorted(times[first:last], end, side="right"))
        return int(stop - begin), int(low[begin:stop].sum())

    kinds: dict[str, Any] = {}
    for kind in FAULT_KINDS:
        whole = [0, 0]
        named = [0, 0]
        for label in (f for f in labels if f.kind == kind):
            lead = _lead(label)
            count, below = readings(label.sensor_id, label.start - lead, label.end + lead)
            whole[0] += count
            whole[1] += below
            if id(label) in detected:
                count, below = readings(label.sensor_id, detected[id(label)], label.end + lead)
                named[0] += count
                named[1] += below
        kinds[kind] = {
            "readings_in_windows": whole[0],
            "low_share_in_windows": _rounded(whole[1] / whole[0] if whole[0] else None),
            "readings_after_named": named[0],
            "low_share_after_named": _rounded(named[1] / named[0] if named[0] else None),
        }
    clean_count = clean_low = 0
    for sensor_row in sensors:
        if sensor_row.sensor_id not in by_sensor:
            count, below = readings(sensor_row.sensor_id, -np.inf, np.inf)
            clean_count += count
            clean_low += below
    return {
        "min_quality": MIN_QUALITY,
        "kinds": kinds,
        "fault_free_readings": clean_count,
        "fault_free_low_share": _rounded(clean_low / clean_count if clean_count else None),
    }


_NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")


def _cause(reason: str) -> str:
    """A reason with its numbers taken out, so alarms of one cause count together."""
    return _NUMBER.sub("#", reason)[:80]


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _signal_order(signal: str) -> tuple[int, str]:
    order = list(SIGNAL_INFO)
    return (order.index(signal) if signal in order else len(order), signal)


def report(result: dict[str, Any], explain: bool = False) -> list[str]:
    """The result as text tables: per kind, per signal type, false alarms, quality; with
    ``explain`` every missed fault too (to read on the tune part, never on holdout)."""
    run = result["run"]
    lines = [f"sensors {run['sensors']} (fault-free {run['fault_free_sensors']})  faults "
             f"{run['faults']}  days {run['days']}  alarms {run['alarms']}"
             f" (after the set's end, not scored: {run.get('alarms_after_end', 0)})"]
    lines += _kind_lines("all signal types", result)
    for signal, table in result["signals"].items():
        lines += _kind_lines(signal, table)
    lines.append("")
    lines.append(f"{'state':8} {'alarms':>7} {'detects':>8} {'repeat':>7} {'fault-free':>11} "
                 f"{'outside':>8} {'wrong kind':>11}")
    for state, row in result["states"].items():
        lines.append(f"{state:8} {row['alarms']:7d} {row['detects']:8d} {row['repeat']:7d} "
                     f"{row['fault-free']:11d} {row['outside']:8d} {row['wrong kind']:11d}")
    causes = result["false_alarms"]["fault_free_by_cause"]
    if causes:
        lines.append("")
        lines.append("false alarms on fault-free sensors, by cause:")
        lines += [f"  {count:5d}  {cause}" for cause, count in causes]
    if explain and result["missed"]:
        lines.append("")
        lines.append("missed faults:")
        lines += [f"  {m['kind']:9} {m['sensor_id']:16} {m['signal']:16} start "
                  f"{m['start']:.0f}  {m['hours']:7.2f} h  size {m['magnitude']:.3g}  "
                  f"{m['detail']}" for m in result["missed"]]
    quality = result.get("quality")
    if quality:
        lines.append("")
        lines.append(f"readings with quality < {quality['min_quality']}: fault-free sensors "
                     f"{_shown(quality['fault_free_low_share'])} of "
                     f"{quality['fault_free_readings']}")
        lines.append(f"{'kind':10} {'in window':>10} {'of':>8} {'after named':>12} {'of':>8}")
        for kind, row in quality["kinds"].items():
            lines.append(f"{kind:10} {_shown(row['low_share_in_windows']):>10} "
                         f"{row['readings_in_windows']:8d} "
                         f"{_shown(row['low_share_after_named']):>12} "
                         f"{row['readings_after_named']:8d}")
    return lines


def _kind_lines(title: str, table: dict[str, Any]) -> list[str]:
    false = table["false_alarms"]
    lines = ["", f"{title}: false alarms on fault-free sensors {false['on_fault_free_sensors']}"
             f" ({_shown(false['per_100_fault_free_sensor_days'])} per 100 sensor-days, "
             f"{false['fault_free_sensors']} sensors); on faulty sensors: outside windows "
             f"{false['on_faulty_sensors_outside_windows']}, wrong kind in a window "
             f"{false['in_a_window_of_a_state_it_does_not_accept']}",
             f"{'kind':10} {'faults':>6} {'found':>6} {'false':>6} {'prec':>6} {'recall':>6} "
             f"{'F1':>6} {'delay h':>8}"]
    for kind, row in table["kinds"].items():
        if not row["faults"] and not row["false_alarms"]:
            continue
        lines.append(f"{kind:10} {row['faults']:6d} {row['detected']:6d} "
                     f"{row['false_alarms']:6d} {_shown(row['precision']):>6} "
                     f"{_shown(row['recall']):>6} {_shown(row['f1']):>6} "
                     f"{_shown(row['median_delay_h']):>8}")
    return lines


def _shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
