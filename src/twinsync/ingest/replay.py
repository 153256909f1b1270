"""CSV replay: back-fill history or run a demo from a file, at any speed.

Two layouts, detected from the header (or set with ``layout``):

- long: one reading per row, ``timestamp, sensor, value[, unit]`` (column names are
  configurable; common names such as ``time``/``sensor_id``/``value`` are recognised);
- wide: ``timestamp`` then one column per sensor; a column named ``t-1 [degC]`` gives the
  unit; an empty cell is no reading, not an error.

``speed`` scales time: 10 replays ten times faster than the readings were taken; 0 or
infinity replays as fast as the sink takes it. Pacing uses the readings' own timestamps,
so a file's gaps stay gaps. A row that cannot be read becomes a dead letter with its line
number; the rest of the file goes on.
"""

from __future__ import annotations

import asyncio
import csv
import math
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConnectorError, InvalidInput
from ..pipeline import DeadLetter, IncomingBatch, RawReading, parse_time
from .connector import ConnectorHealth, Delivery

TIME_NAMES = ("timestamp", "time", "ts", "datetime", "date", "event_time", "t")
SENSOR_NAMES = ("sensor", "sensor_id", "id", "name", "tag", "point")
VALUE_NAMES = ("value", "v", "reading", "val")
UNIT_NAMES = ("unit", "u", "units")
_UNIT_IN_NAME = re.compile(r"^(.*?)\s*\[(.*)\]\s*$")
#: Wall-clock span of one paced batch: short enough for live-looking demos.
PACE_WINDOW = 0.1


@dataclass(slots=True)
class ReplaySettings:
    """Everything a ``[[connectors]]`` table with ``kind = "replay"`` may set."""

    path: str
    name: str = "replay"
    speed: float = 0.0
    layout: str = "auto"
    time_column: str | None = None
    sensor_column: str | None = None
    value_column: str | None = None
    unit_column: str | None = None
    delimiter: str = ","
    batch_size: int = 10_000
    source: str = ""
    """Whose clock the timestamps are; default: the file's name."""
    keep_rows: bool = True
    """Quote the file in errors (its header) and dead letters (a bad row). Off for a replay
    added through the API, whose caller must learn nothing of a file but that it replayed."""

    def __post_init__(self) -> None:
        if self.layout not in ("auto", "long", "wide"):
            raise ConnectorError(f"replay {self.name!r}: layout must be auto, long or wide")
        if self.speed < 0 or math.isnan(self.speed):
            raise ConnectorError(f"replay {self.name!r}: speed must be 0 (as fast as "
                                 "possible) or positive")
        if self.batch_size < 1:
            raise ConnectorError(f"replay {self.name!r}: batch_size must be positive")
        if not self.source:
            self.source = Path(self.path).name


def _shown(header: Sequence[str], s: ReplaySettings) -> str:
    """The header as an error may show it."""
    return str(list(header)) if s.keep_rows else f"({len(header)} columns)"


def _find(header: Sequence[str], wanted: str | None, names: Sequence[str],
          s: ReplaySettings) -> int | None:
    lowered = [h.strip().lower() for h in header]
    if wanted is not None:
        if wanted.strip().lower() not in lowered:
            raise ConnectorError(f"column {wanted!r} not in the header {_shown(header, s)}")
        return lowered.index(wanted.strip().lower())
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


class _Layout:
    """Where the columns are; ``rows`` turns one CSV row into readings."""

    def __init__(self, header: list[str], s: ReplaySettings) -> None:
        time_column = _find(header, s.time_column, TIME_NAMES, s)
        if time_column is None:
            raise ConnectorError(f"replay {s.name!r}: no time column in {_shown(header, s)} "
                                 f"(looked for {TIME_NAMES}; set time_column)")
        self.time: int = time_column
        self.sensor = _find(header, s.sensor_column, SENSOR_NAMES, s)
        self.value = _find(header, s.value_column, VALUE_NAMES, s)
        self.unit = _find(header, s.unit_column, UNIT_NAMES, s)
        long = self.sensor is not None and self.value is not None
        if s.layout == "long" and not long:
            raise ConnectorError(f"replay {s.name!r}: a long file needs sensor and value "
                                 f"columns, header is {_shown(header, s)}")
        self.long = long if s.layout == "auto" else s.layout == "long"
        self.columns: list[tuple[int, str, str | None]] = []
        if not self.long:
            for position, name in enumerate(header):
                if position == self.time or not name.strip():
                    continue
                unit_match = _UNIT_IN_NAME.match(name)
                sensor, unit = (unit_match.groups() if unit_match else (name.strip(), None))
                self.columns.append((position, sensor, unit))
            if not self.columns:
                raise ConnectorError(f"replay {s.name!r}: no sensor columns in {_shown(header, s)}")

    def readings(self, row: list[str]) -> tuple[float, list[RawReading]]:
        moment = parse_time(_number_or_text(row[self.time]))
        if self.long:
            assert self.sensor is not None and self.value is not None
            unit = row[self.unit].strip() or None if self.unit is not None else None
            return moment, [RawReading(row[self.sensor].strip(), _value(row[self.value]),
                                       moment, unit)]
        return moment, [RawReading(sensor, _value(row[position]), moment, unit)
                        for position, sensor, unit in self.columns
                        if position < len(row) and row[position].strip()]


def _number_or_text(cell: str) -> float | str:
    text = cell.strip()
    try:
        return float(text)
    except ValueError:
        return text


def _value(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise InvalidInput(f"value {cell!r} is not a number", "not_a_number") from None


class ReplayConnector:
    """A Connector that reads a CSV file once, paced by ``speed``, then ends its stream."""

    kind = "replay"

    def __init__(self, settings: ReplaySettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._health = ConnectorHealth(settings.name, self.kind)
        self._layout: _Layout | None = None
        self._closed = False
        self._lines = 0
        self._done = False

    async def start(self) -> None:
        path = Path(self.settings.path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle, delimiter=self.settings.delimiter), None)
        except OSError as exc:
            raise ConnectorError(f"replay {self.name!r}: cannot read {path}: {exc}") from exc
        if not header:
            raise ConnectorError(f"replay {self.name!r}: {path} is empty")
        self._layout = _Layout(header, self.settings)
        self._health.connected = True

    async def aclose(self) -> None:
        self._closed = True
        self._health.connected = False

    def health(self) -> ConnectorHealth:
        self._health.details.update(lines=self._lines, done=self._done,
                                    layout="long" if self._layout and self._layout.long
                                    else "wide", path=self.settings.path)
        return self._health

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.settings.path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=self.settings.delimiter)
            next(reader, None)
            for row in reader:
                if row and any(cell.strip() for cell in row):
                    yield reader.line_num, row

    async def deliveries(self) -> AsyncIterator[Delivery]:
        if self._layout is None:
            await self.start()
        layout = self._layout
        assert layout is not None
        s = self.settings
        paced = 0 < s.speed < math.inf
        window = PACE_WINDOW * s.speed  # event seconds per paced batch
        source = s.source
        readings: list[RawReading] = []
        letters: list[DeadLetter] = []
        first_time: float | None = None
        batch_start: float | None = None
        wall_start = time.monotonic()
        for line, row in self._rows():
            if self._closed:
                return
            self._lines += 1
            try:
                moment, found = layout.readings(row)
            except (InvalidInput, IndexError) as exc:
                reason = getattr(exc, "reason", "bad_row")
                if s.keep_rows:
                    letters.append(DeadLetter(time.time(), source, reason,
                                              f"{s.path} line {line}: {exc}",
                                              {"line": line, "row": row}))
                else:
                    letters.append(DeadLetter(time.time(), source, reason,
                                              f"line {line}: {reason}", {"line": line}))
                continue
            if first_time is None:
                first_time = batch_start = moment
            full = len(readings) >= s.batch_size
            if paced and batch_start is not None and moment - batch_start >= window:
                full = True
            if full and (readings or letters):
                yield self._delivery(readings, letters)
                readings, letters = [], []
                batch_start = moment
            if paced:
                # Sleep until this row's moment, scaled, has come on the wall clock.
                delay = wall_start + (moment - first_time) / s.speed - time.monotonic()
                if delay > 0:
                    if readings or letters:
                        yield self._delivery(readings, letters)
                        readings, letters = [], []
                        batch_start = moment
                    await asyncio.sleep(delay)
            readings.extend(found)
        if readings or letters:
            yield self._delivery(readings, letters)
        self._done = True

    def _delivery(self, readings: list[RawReading], letters: list[DeadLetter]) -> Delivery:
        self._health.saw(len(readings), len(letters))
        return Delivery(IncomingBatch(readings, self.settings.source, time.time(), self.kind),
                        letters)


class IngestSink(Protocol):
    """What a replay writes to: ``TwinService`` or an HTTP client with the same method."""

    async def ingest(self, incoming: IncomingBatch,
                     dead_letters: Sequence[DeadLetter] = ()) -> Any: ...


@dataclass(slots=True)
class ReplayResult:
    readings: int
    accepted: int
    rejected: int
    dead_letters: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"readings": self.readings, "accepted": self.accepted,
                "rejected": self.rejected, "dead_letters": self.dead_letters,
                "seconds": self.seconds}


async def replay_file(path: str | Path, sink: IngestSink, *, speed: float = 0.0,
                      **options: Any) -> ReplayResult:
    """Replay a CSV file into a sink; the CLI's ``twinsync replay FILE --speed N``.

    ``options`` are ``ReplaySettings`` fields (``layout``, ``time_column``…). Rejections
    by the pipeline (unknown sensor, bad unit…) are counted from the sink's answer when it
    has an ``accepted`` attribute (``IngestResult`` does).
    """
    connector = ReplayConnector(ReplaySettings(path=str(path), speed=speed, **options))
    started = time.monotonic()
    await connector.start()
    readings = accepted = letters = 0
    try:
        async for delivery in connector.deliveries():
            answer = await sink.ingest(delivery.batch, delivery.dead_letters)
            readings += len(delivery.batch.readings)
            letters += len(delivery.dead_letters)
            accepted += getattr(answer, "accepted", len(delivery.batch.readings))
    finally:
        await connector.aclose()
    return ReplayResult(readings, accepted, readings - accepted, letters,
                        time.monotonic() - started)
