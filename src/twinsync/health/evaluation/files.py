"""The CSV files of the evaluation set and of the replay, read and written column-wise.

Columns are fixed (the replay command reads SENSORS.csv and READINGS.csv and writes
STATES.csv and QUALITIES.csv): ``SENSOR_COLUMNS``, ``READING_COLUMNS``, ``LABEL_COLUMNS``,
``STATE_COLUMNS``, ``QUALITY_COLUMNS``. READINGS.csv is written by formatting whole columns
at once: a line per reading through ``str.format`` over lists, no per-row ``csv`` writer
(1.6 M rows take a few seconds).
"""

from __future__ import annotations

import csv
from dataclasses import astuple, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ...errors import InvalidInput
from .faults import Label

SENSOR_COLUMNS = ("sensor_id", "kind", "unit", "element_id", "property", "expected_interval_s",
                  "resolution", "source", "group")
READING_COLUMNS = ("received_at", "source", "sensor_id", "time", "value", "seq")
LABEL_COLUMNS = ("sensor_id", "kind", "start", "end", "magnitude", "detail")
STATE_COLUMNS = ("time", "sensor_id", "state", "quality", "reason")
QUALITY_COLUMNS = ("sensor_id", "time", "quality")


@dataclass(frozen=True, slots=True)
class SensorRow:
    sensor_id: str
    kind: str
    unit: str
    element_id: str
    property: str
    expected_interval_s: float
    resolution: float
    source: str
    group: str


@dataclass(frozen=True, slots=True)
class StateRow:
    """One health state change, as the replay writes it."""

    time: float
    sensor_id: str
    state: str
    quality: float
    reason: str


@dataclass(frozen=True, slots=True)
class Qualities:
    """Per reading: the sensor (as an index into ``sensor_ids``), time and quality."""

    sensor_ids: list[str]
    sensor: NDArray[np.int64]
    time: NDArray[np.float64]
    quality: NDArray[np.float64]


def write_sensors(path: Path, rows: list[SensorRow]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SENSOR_COLUMNS)
        writer.writerows(astuple(row) for row in rows)


def write_labels(path: Path, labels: list[Label]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(LABEL_COLUMNS)
        writer.writerows((label.sensor_id, label.kind, f"{label.start:.3f}",
                          f"{label.end:.3f}", repr(label.magnitude), label.detail)
                         for label in labels)


def write_events(path: Path, events: list[tuple[str, float, float, str]]) -> None:
    """EVENTS.csv (``group,start,end,kind``), as ``twinsync health replay --events`` reads
    it."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("group", "start", "end", "kind"))
        writer.writerows((group, f"{start:.3f}", f"{end:.3f}", kind)
                         for group, start, end, kind in events)


def write_readings(path: Path, received: NDArray[np.float64], device_time: NDArray[np.float64],
                   sensor: NDArray[np.int64], sensor_ids: list[str], sources: list[str],
                   value: NDArray[np.float64], seq: NDArray[np.int64]) -> None:
    """One line per reading in the order given. ``sensor`` indexes ``sensor_ids`` and
    ``sources`` (a sensor's source); times are written to the millisecond, ``seq`` -1 empty,
    values as Python writes the float (shortest repr)."""
    unique_values, value_code = np.unique(value, return_inverse=True)
    seq_table = [""] + [str(n) for n in range(int(seq.max(initial=-1)) + 1)]
    columns: list[NDArray[np.uint8] | _Table] = [
        _fixed_milliseconds(received),
        # A sensor has one source: the two fields are one text per sensor.
        _Table.of([f"{source},{sensor_id}" for source, sensor_id
                   in zip(sources, sensor_ids, strict=True)], sensor),
        _fixed_milliseconds(device_time),
        _Table.of([repr(v) for v in unique_values.tolist()], value_code.reshape(-1)),
        _Table.of(seq_table, seq + 1),
    ]
    with path.open("wb") as out:
        out.write((",".join(READING_COLUMNS) + "\n").encode())
        out.write(_join(columns, len(received)).tobytes())


@dataclass(frozen=True, slots=True)
class _Table:
    """A column as a table of distinct texts (bytes, end to end) and a code per row."""

    data: NDArray[np.uint8]
    start: NDArray[np.int64]
    length: NDArray[np.int64]
    code: NDArray[np.int64]

    @classmethod
    def of(cls, texts: list[str], code: NDArray[np.int64]) -> _Table:
        encoded = [text.encode() for text in texts]
        length = np.array([len(b) for b in encoded], dtype=np.int64)
        start = np.concatenate([[0], np.cumsum(length)[:-1]]).astype(np.int64)
        data = np.frombuffer(b"".join(encoded) or b" ", dtype=np.uint8)
        return cls(data, start, length, np.asarray(code, dtype=np.int64))

    def widths(self) -> NDArray[np.int64]:
        widths: NDArray[np.int64] = self.length[self.code]
        return widths

    def place(self, out: NDArray[np.uint8], at: NDArray[np.int64]) -> None:
        widths = self.widths()
        total = int(widths.sum())
        row = np.repeat(np.arange(len(widths)), widths)
        within = np.arange(total) - np.repeat(np.cumsum(widths) - widths, widths)
        out[at[row] + within] = self.data[self.start[self.code][row] + within]


def _fixed_milliseconds(seconds: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Non-negative seconds as fixed-width ``ddddddddd.ddd`` text, one row of bytes each."""
    millis = np.round(np.asarray(seconds) * 1000.0).astype(np.int64)
    digits = max(len(str(int(millis.max(initial=0)))), 4)
    fixed = np.empty((len(millis), digits + 1), dtype=np.uint8)
    fixed[:, digits - 3] = ord(".")
    # Digit by digit from the right: a column at a time keeps the arrays one row long.
    for column in [*range(digits, digits - 3, -1), *range(digits - 4, -1, -1)]:
        millis, digit = np.divmod(millis, 10)
        fixed[:, column] = digit + ord("0")
    return fixed


def _join(columns: list[NDArray[np.uint8] | _Table], rows: int) -> NDArray[np.uint8]:
    """The columns as CSV bytes: fields joined by commas, rows ended by newlines."""
    widths = [c.widths() if isinstance(c, _Table) else np.full(rows, c.shape[1])
              for c in columns]
    line = np.sum(widths, axis=0) + len(columns)  # commas and the newline
    out = np.full(int(line.sum()), ord(","), dtype=np.uint8)
    at = np.cumsum(line) - line
    for column, width in zip(columns, widths, strict=True):
        if isinstance(column, _Table):
            column.place(out, at)
        else:
            out[at[:, None] + np.arange(column.shape[1])] = column
        at = at + width + 1
    out[at - 1] = ord("\n")
    return out


def read_sensors(path: Path) -> list[SensorRow]:
    rows = _rows(path, SENSOR_COLUMNS)
    return [SensorRow(r["sensor_id"], r["kind"], r["unit"], r["element_id"], r["property"],
                      _number(r["expected_interval_s"] or "0", path),
                      _number(r["resolution"] or "0", path), r["source"], r["group"])
            for r in rows]


def read_labels(path: Path) -> list[Label]:
    return [Label(r["sensor_id"], r["kind"], _number(r["start"], path), _number(r["end"], path),
                  _number(r["magnitude"] or "0", path), r["detail"])
            for r in _rows(path, LABEL_COLUMNS)]


def read_states(path: Path) -> list[StateRow]:
    return [StateRow(_number(r["time"], path), r["sensor_id"], r["state"],
                     _number(r["quality"] or "nan", path), r["reason"])
            for r in _rows(path, STATE_COLUMNS)]


def read_qualities(path: Path) -> Qualities:
    """QUALITIES.csv as columns (it has a row per reading: millions)."""
    ids: dict[str, int] = {}
    sensors: list[int] = []
    times: list[float] = []
    qualities: list[float] = []
    with path.open(newline="") as source:
        reader = csv.reader(source)
        header = next(reader, None)
        if header is None or tuple(header[:3]) != QUALITY_COLUMNS:
            raise InvalidInput(f"{path}: the columns must be {', '.join(QUALITY_COLUMNS)}",
                               "bad_columns")
        for row in reader:
            if not row:
                continue
            sensors.append(ids.setdefault(row[0], len(ids)))
            times.append(float(row[1]))
            qualities.append(float(row[2]))
    return Qualities(list(ids), np.array(sensors, dtype=np.int64), np.array(times),
                     np.array(qualities))


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(newline="") as source:
        reader = csv.DictReader(source)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}; expected "
                               f"{', '.join(columns)}", "bad_columns")
        return list(reader)


def _number(text: str, path: Path) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{path}: {text!r} is not a number", "bad_number") from None
