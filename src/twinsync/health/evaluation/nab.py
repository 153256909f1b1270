"""A few labelled NAB series in the replay's files, as a real-data supplement to the site.

The Numenta Anomaly Benchmark labels windows where a value is unusual, which is mostly not
a sensor fault (a machine failing, a taxi demand peak). Only series whose windows are a
sensor health fault of a known kind, or that have none, are converted (``SERIES``):

- ``art_daily_flatmiddle``: a daily square wave that holds one exact value for a day: stuck;
- ``art_daily_jumpsup`` / ``art_daily_jumpsdown``: a day whose high phase is far higher /
  lower than every other day's: an offset for those hours;
- ``art_daily_no_noise``, ``art_daily_small_noise``, ``art_noisy``: no window, fault-free;
- ``ambient_temperature_system_failure``: an office's air temperature (°F, hourly, with gaps
  in its timestamps). Its windows are failures of the building's system, not of the
  sensor: the sensor is fault-free and its windows are not labels, so any alarm on it is
  false (the scorer's causes say which: its gaps come out as stale and offline).

Each series becomes its own folder (their periods differ, and the scorer counts sensor-days
over one period): SENSORS.csv (one sensor, a group of its own, interval the median step,
resolution 0 = learned), READINGS.csv (``received_at`` = ``time``: NAB gives one clock),
LABELS.csv (the window as ``start``, ``end``; magnitude 0: NAB does not give one) and
SITE.json. The data are read where they are and never copied into the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...bench.nab import parse_time, read_series
from ...errors import InvalidInput
from . import files
from .faults import Label


@dataclass(frozen=True, slots=True)
class Series:
    path: str             # under data/, as combined_windows.json names it
    kind: str             # the sensor kind
    unit: str
    fault: str | None     # the fault kind of its windows; None: fault-free
    detail: str


SERIES: dict[str, Series] = {
    "art_daily_flatmiddle": Series("artificialWithAnomaly/art_daily_flatmiddle.csv",
                                   "temperature", "degC", "stuck",
                                   "NAB window: one day held at one exact value"),
    "art_daily_jumpsup": Series("artificialWithAnomaly/art_daily_jumpsup.csv", "temperature",
                                "degC", "offset", "NAB window: one day's high phase far higher"),
    "art_daily_jumpsdown": Series("artificialWithAnomaly/art_daily_jumpsdown.csv",
                                  "temperature", "degC", "offset",
                                  "NAB window: one day's high phase far lower"),
    "art_daily_no_noise": Series("artificialNoAnomaly/art_daily_no_noise.csv", "temperature",
                                 "degC", None, ""),
    "art_daily_small_noise": Series("artificialNoAnomaly/art_daily_small_noise.csv",
                                    "temperature", "degC", None, ""),
    "art_noisy": Series("artificialNoAnomaly/art_noisy.csv", "temperature", "degC", None, ""),
    "ambient_temperature_system_failure": Series(
        "realKnownCause/ambient_temperature_system_failure.csv", "temperature", "degF", None,
        ""),
}


def convert(data: Path, out: Path, names: list[str] | None = None) -> dict[str, int]:
    """Write each chosen series (all of ``SERIES`` by default) to ``out/<name>/``; the
    number of readings written per series."""
    windows_of: dict[str, list[list[str]]] = json.loads(
        (data / "combined_windows.json").read_text())
    written: dict[str, int] = {}
    for name in names or list(SERIES):
        if name not in SERIES:
            raise InvalidInput(f"no conversion for NAB series {name!r}; known: "
                               f"{', '.join(SERIES)}", "unknown_series")
        series = SERIES[name]
        path = data / "data" / series.path
        if not path.is_file():
            raise InvalidInput(f"{path}: no such file", "missing_file")
        times, values = read_series(path)
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
        interval = float(np.median(np.diff(times)))
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        files.write_sensors(folder / "SENSORS.csv", [files.SensorRow(
            name, series.kind, series.unit, name, "value", interval, 0.0, "nab", name)])
        files.write_readings(folder / "READINGS.csv", times, times,
                             np.zeros(len(times), dtype=np.int64), [name], ["nab"], values,
                             np.full(len(times), -1, dtype=np.int64))
        labels = [] if series.fault is None else [
            Label(name, series.fault, parse_time(start), parse_time(end), 0.0, series.detail)
            for start, end in windows_of.get(series.path, [])]
        files.write_labels(folder / "LABELS.csv", labels)
        site = {"part": "nab", "series": series.path, "start": float(times[0]),
                "end": float(times[-1]) + interval, "days": round(
                    (float(times[-1]) + interval - float(times[0])) / 86_400.0, 3),
                "sensors": 1, "readings": len(times), "faults": len(labels),
                "fault_free_sensors": int(not labels)}
        (folder / "SITE.json").write_text(json.dumps(site, indent=1) + "\n")
        written[name] = len(times)
    return written
