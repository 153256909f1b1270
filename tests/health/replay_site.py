"""A small recorded site for the replay tests: four peer sensors read every 10 s for 40
minutes through one gateway; ``t-c`` sticks at step 120, ``t-b`` pauses for a minute
(stale, then back), ``t-d`` falls silent after step 150, one old reading is delivered
again, one arrives late, and a late one of t-d arrives while it is stale."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

START = 1_767_225_600.0
STEPS = 240
INTERVAL = 10.0
STUCK_FROM = 120
SILENT_AFTER = 150
#: Step at which a reading of t-d from step 100 arrives (t-d is stale by then).
STALE_LATE_AT = 155
#: Steps t-b sends nothing.
PAUSE = range(171, 176)
#: Step at which an old reading of t-a comes again and a late one of t-b arrives.
EXTRA_AT = 200
SENSORS = ("t-a", "t-b", "t-c", "t-d")


def time_of(step: int, sensor: int) -> float:
    return START + step * INTERVAL + 0.5 * sensor


def received_of(step: int) -> float:
    return START + step * INTERVAL + 5.25


def write_site(folder: Path, *, extra_rows: tuple[str, ...] = ()) -> tuple[Path, Path]:
    sensors = folder / "sensors.csv"
    sensors.write_text(
        "sensor_id,kind,unit,element_id,property,expected_interval_s,resolution,source\n"
        + "".join(f"{name},temperature,degC,room-1,temperature,{INTERVAL:g},0.01,gw-1\n"
                  for name in SENSORS))
    rng = np.random.default_rng(7)
    rows = ["received_at,source,sensor_id,time,value,seq"]
    stuck_value = math.nan
    for step in range(STEPS):
        truth = 20.0 + 2.0 * math.sin(2 * math.pi * step / 60.0)
        for number, name in enumerate(SENSORS):
            if (name == "t-d" and step > SILENT_AFTER) or (name == "t-b" and step in PAUSE):
                continue
            value = round(truth + float(rng.normal(0.0, 0.05)), 2)
            if name == "t-c" and step == STUCK_FROM:
                stuck_value = value
            if name == "t-c" and step >= STUCK_FROM:
                value = stuck_value
            rows.append(f"{received_of(step)},gw-1,{name},{time_of(step, number)},{value},"
                        f"{step}")
        if step == STALE_LATE_AT:
            rows.append(f"{received_of(step)},gw-1,t-d,{time_of(100, 3) + 0.25},20.0,")
        if step == EXTRA_AT:
            # The gateway sends t-a's reading of step 10 again (far behind its window)...
            first = rows[1 + 10 * len(SENSORS)]
            rows.append(f"{received_of(step)}," + first.split(",", 1)[1])
            # ...and a reading of t-b from 40 steps ago, never sent before, with no number.
            rows.append(f"{received_of(step)},gw-1,t-b,{time_of(step - 40, 1)},19.5,")
    rows.extend(extra_rows)
    readings = folder / "readings.csv"
    readings.write_text("\n".join(rows) + "\n")
    return sensors, readings
