"""The replay's input files: a sensor list that becomes a twin, and readings in the order
they arrived, read in chunks of columns so a month of a building fits in little memory.

SENSORS.csv: ``sensor_id,kind,unit,element_id,property,expected_interval_s,resolution,
source`` and optionally ``group``. READINGS.csv: ``received_at,source,sensor_id,time,value,
seq``, one row per reading in arrival order. A reading's fields are handed to the pipeline
as a source would send them: a value or time that is not a number stays text, so the
pipeline's own admission refuses it with its own reason.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInput, TwinsyncError
from ...model import Binding, Element, Sensor, Twin

SENSOR_COLUMNS = ("sensor_id", "kind", "unit", "element_id", "property",
                  "expected_interval_s", "resolution", "source")
READING_COLUMNS = ("received_at", "source", "sensor_id", "time", "value", "seq")
#: Type of the elements the sensor list names: the file says nothing more of them.
ELEMENT_TYPE = "IfcBuildingElementProxy"
#: Rows of READINGS.csv read at a time.
CHUNK_ROWS = 100_000


@dataclass(slots=True)
class SensorList:
    """The twin a sensor list describes, and its own peer groups if it names them
    (sensor id -> group name; None: peers are the sensors of one element's property)."""

    twin: Twin
    groups: dict[str, str] | None


def read_sensors(path: Path) -> SensorList:
    """Build the twin: one element per ``element_id``, each sensor bound to its property.

    The sensor list is the replay's configuration, so a bad row stops it (with its line)."""
    twin = Twin()
    groups: dict[str, str] | None = None
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        missing = [c for c in SENSOR_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise InvalidInput(f"{path.name}: missing columns {', '.join(missing)}",
                               "bad_columns")
        if "group" in (reader.fieldnames or ()):
            groups = {}
        for line, row in enumerate(reader, start=2):
            try:
                _add_sensor(twin, row)
            except (TwinsyncError, ValueError) as exc:
                raise InvalidInput(f"{path.name} line {line}: {exc}", "bad_sensor") from exc
            if groups is not None and (row.get("group") or "").strip():
                groups[row["sensor_id"].strip()] = str(row["group"]).strip()
    return SensorList(twin, groups)


def _add_sensor(twin: Twin, row: dict[str, Any]) -> None:
    sensor_id = (row["sensor_id"] or "").strip()
    source = (row["source"] or "").strip()
    sensor = Sensor(id=sensor_id, kind=(row["kind"] or "").strip() or "generic",
                    unit=(row["unit"] or "").strip(),
                    expected_interval=_number(row["expected_interval_s"]),
                    resolution=_number(row["resolution"]),
                    meta={"source": source} if source else {})
    twin.add_sensor(sensor)
    element_id = (row["element_id"] or "").strip()
    if not element_id:
        return  # an unbound sensor: judged on its own, with no peers
    if element_id not in twin.elements:
        twin.add_element(Element(id=element_id, type=ELEMENT_TYPE))
    twin.bind_sensor(Binding(sensor_id, element_id, (row["property"] or "").strip()))


def _number(text: str | None) -> float:
    return float(text) if text and text.strip() else 0.0


@dataclass(slots=True)
class BadRow:
    """A line of READINGS.csv that is not a reading at all (or that the pipeline refused)."""

    line: int
    reason: str
    detail: str


@dataclass(slots=True)
class ReadingChunk:
    """Consecutive readings as columns, in file order. ``time``, ``value`` and ``seq`` hold
    what the pipeline is given: a number where the text was one, else the text (``time``
    and ``seq`` None where empty)."""

    line: NDArray[np.int64]
    received_at: NDArray[np.float64]
    source: list[str]
    sensor_id: list[str]
    time: list[Any]
    value: list[Any]
    seq: list[Any]
    bad: list[BadRow] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.line.shape[0])


def read_readings(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[ReadingChunk]:
    """READINGS.csv in chunks of up to ``chunk_rows`` good rows. A row without a usable
    arrival time, or with the wrong number of fields, cannot be placed in the replay: it
    is left out and reported in its chunk's ``bad``."""
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader, None)
        if header is None:
            return
        names = [name.strip() for name in header]
        missing = [c for c in READING_COLUMNS if c not in names]
        if missing:
            raise InvalidInput(f"{path.name}: missing columns {', '.join(missing)}",
                               "bad_columns")
        at = [names.index(c) for c in READING_COLUMNS]
        width = len(names)
        lines: list[int] = []
        rows: list[list[str]] = []
        bad: list[BadRow] = []
        for line, row in enumerate(reader, start=2):
            if len(row) != width:
                if row:  # a blank line is not a reading
                    bad.append(BadRow(line, "bad_row",
                                      f"{len(row)} fields where the header has {width}"))
                continue
            lines.append(line)
            rows.append(row)
            if len(rows) >= chunk_rows:
                yield _chunk(lines, rows, at, bad)
                lines, rows, bad = [], [], []
        if rows or bad:
            yield _chunk(lines, rows, at, bad)


def _chunk(lines: list[int], rows: list[list[str]], at: list[int],
           bad: list[BadRow]) -> ReadingChunk:
    columns: list[tuple[str, ...]] = (list(zip(*rows, strict=True)) if rows
                                      else [() for _ in range(max(at) + 1)])
    received, received_ok = _floats(columns[at[0]])
    line = np.array(lines, dtype=np.int64)
    keep = received_ok & np.isfinite(received)
    if not keep.all():
        for i in np.flatnonzero(~keep).tolist():
            bad.append(BadRow(int(line[i]), "bad_received_at",
                              f"received_at {columns[at[0]][i]!r} is not a time in seconds"))
    index = np.flatnonzero(keep)
    everything = index.size == len(lines)

    def pick(column: tuple[str, ...]) -> list[str]:
        return list(column) if everything else [column[i] for i in index.tolist()]

    values, values_ok = _floats(columns[at[4]])
    times, times_ok = _floats(columns[at[3]])
    time_text = columns[at[3]]
    value_text = columns[at[4]]
    seq_text = columns[at[5]]
    chosen = index.tolist()
    value_list = values.tolist()
    time_list = times.tolist()
    bad.sort(key=lambda b: b.line)
    return ReadingChunk(
        line=line[index], received_at=received[index],
        source=[s.strip() for s in pick(columns[at[1]])],
        sensor_id=[s.strip() for s in pick(columns[at[2]])],
        time=[time_list[i] if times_ok[i] else (time_text[i].strip() or None)
              for i in chosen],
        value=[value_list[i] if values_ok[i] else value_text[i] for i in chosen],
        seq=[_seq(seq_text[i]) for i in chosen],
        bad=bad)


def _floats(column: tuple[str, ...]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A column of text as numbers, and which texts were numbers at all."""
    try:
        # The common case: every field a number, converted in one call.
        return np.array(column, dtype=np.float64), np.ones(len(column), dtype=np.bool_)
    except ValueError:
        pass
    numbers = np.empty(len(column))
    ok = np.ones(len(column), dtype=np.bool_)
    for i, text in enumerate(column):
        try:
            numbers[i] = float(text)
        except ValueError:
            numbers[i], ok[i] = math.nan, False
    return numbers, ok


def _seq(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # the pipeline refuses it as ``bad_seq``
