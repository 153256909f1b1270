"""Predicted against measured over a time range: each sensor of an element's property, each
reading with the level/trend model's one-step prediction and its interval, and the spans
its live model diverged (``GET /api/elements/{id}/twin/track``).

The reading path keeps no prediction per reading (docs/PHYSICS.md, "On the reading
path"), so they are computed when asked: the sensors are found on the writer, and off it,
in a worker thread, their stored readings are read and run through a tracker of the
request's own (``physics.one_step.PredictingTracker``) with the live desk's knobs. Live
state is only read (which sensors, the knobs), never stepped.

**Warm-up.** A model starts after ``warmup`` trusted readings and learns its noise over
the next hundred or so. So the replay starts before the range: from up to
``LEAD_READINGS`` of the sensor's readings before ``start`` (within ``LEAD_SECONDS``),
which are run but not answered. A sensor with fewer readings before the range has its
first readings in it answered without a prediction (``warming_up`` says how many).

**What it is not.** It is the same model over the same stored readings in event-time
order, not the live model's record: the live one started where it was bound (or was
restored from a snapshot), and took stale readings when they arrived. Divergence spans
are therefore the live model's, from the stored events: from a ``twin_divergence``
event's change point (``since``) to the ``alarm_cleared`` of its ``twin:<sensor>`` alarm
(open while not cleared).

**Bounds.** A range of at most ``MAX_RANGE_SECONDS`` and ``MAX_READINGS`` readings in it
over all the property's sensors (422 ``range_too_long``, ``too_many_readings``: ask for a
shorter range); ``every`` answers buckets (the readings' mean, min and max, the mean
prediction and the widest band) aligned as ``GET /api/sensors/{id}/readings`` aligns its.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..errors import Conflict, InvalidInput, NotFound
from ..model import Event
from ..model.validate import shown
from ..physics.one_step import PredictingTracker, z_of
from ..physics.tracker import Knobs
from ..pipeline.batch import NOT_JUDGED_IN_ORDER
from .twin_models import ALARM_PREFIX
from .views import finite_or_none

if TYPE_CHECKING:
    from ..store import Store
    from .twin_service import TwinService

#: The widest range answered.
MAX_RANGE_SECONDS = 31 * 86_400.0
#: The most readings in the range, over all the property's sensors (a week at one a
#: second is 604,800: a chart asks for buckets of a shorter range).
MAX_READINGS = 200_000
#: Readings before the range the model runs over first, at most, and how far back.
LEAD_READINGS = 512
LEAD_SECONDS = 14 * 86_400.0
#: The interval answered unless another coverage is asked for.
COVERAGE = 0.9
#: Events read of each kind for the spans, at most (a page at a time).
MAX_EVENTS = 20_000
_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class _Sensor:
    sensor_id: str
    row: int
    unit: str


def _sensors_of(service: TwinService, element_id: str, name: str
                ) -> tuple[list[_Sensor], Knobs, bool]:
    """On the writer: the sensors bound to the element's property, the model's knobs and
    whether the models are on."""
    twin = service.twin
    element = twin.elements.get(element_id)
    if element is None or element.archived:
        raise NotFound(f"no element {shown(element_id)}")
    table = service.pipeline.table
    sensors = [_Sensor(sensor_id, table.index[sensor_id], table.units[table.index[sensor_id]])
               for sensor_id, binding in sorted(twin.bindings.items())
               if binding.element_id == element_id and binding.property == name
               and sensor_id in table.index]
    if not sensors:
        raise NotFound(f"element {shown(element_id)} has no property {shown(name)} "
                       f"fed by a sensor")
    desk = service.twin_models
    return sensors, desk.tracker.knobs, desk.enabled


def check_range(start: float, end: float) -> None:
    if not end > start:
        raise InvalidInput("end must be after start", "bad_range")
    if end - start > MAX_RANGE_SECONDS:
        raise InvalidInput(f"the range is {(end - start) / 86_400:.4g} days; at most "
                           f"{MAX_RANGE_SECONDS / 86_400:g} are answered", "range_too_long")


def _used(times: NDArray[np.float64], values: NDArray[np.float64],
          flags: NDArray[np.int64]) -> NDArray[np.bool_]:
    """The readings the live model takes: those health folds in order, with a value."""
    mask: NDArray[np.bool_] = ((flags & NOT_JUDGED_IN_ORDER) == 0) & np.isfinite(values) \
        & np.isfinite(times)
    return mask


def _lead(store: Store, row: int, start: float, window_times: NDArray[np.float64]
          ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Up to ``LEAD_READINGS`` used readings just before ``start``: times, values,
    quality. How far back to read is guessed from the range's own spacing (twice what
    ``LEAD_READINGS`` need), so the read stays near ``LEAD_READINGS`` readings."""
    spacing = float(np.median(np.diff(window_times))) if window_times.size > 2 else math.inf
    span = min(LEAD_SECONDS, 2.0 * LEAD_READINGS * spacing) if spacing > 0 else LEAD_SECONDS
    limit = 8 * LEAD_READINGS
    history = store.history(row, start - span, start, limit)
    if history.event_time.size >= limit:
        # The rate before the range was higher: read again over as much time as the
        # readings read spread over, scaled to what is needed.
        covered = max(float(history.event_time[-1]) - (start - span), 1e-3)
        span = 2.0 * LEAD_READINGS * covered / history.event_time.size
        history = store.history(row, start - span, start, limit)
    keep = _used(history.event_time, history.value, history.flags) & (history.event_time < start)
    times, values, quality = (history.event_time[keep], history.value[keep],
                              history.quality[keep])
    return times[-LEAD_READINGS:], values[-LEAD_READINGS:], quality[-LEAD_READINGS:]


def _events(store: Store, element_id: str, kind: str) -> tuple[list[Event], bool]:
    """The element's stored events of ``kind``, oldest first, and whether all were read."""
    events: list[Event] = []
    after = 0
    while len(events) < MAX_EVENTS:
        page = store.events(after=after, element_id=element_id, kind=kind, limit=_PAGE)
        events += page
        if len(page) < _PAGE:
            return events, True
        after = page[-1].seq or after
    return events, False


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def divergence_spans(divergences: list[Event], clears: list[Event], sensor_id: str
                     ) -> list[dict[str, Any]]:
    """The sensor's divergences: each from its change point (``since``; else the event's
    time) to the clearing of its ``twin:`` alarm after it (``end`` null while not
    cleared), oldest first."""
    key = ALARM_PREFIX + sensor_id
    cleared = sorted((e.seq or 0, _number(e.data.get("cleared_at")) or e.time)
                     for e in clears if e.data.get("key") == key)
    spans = []
    for event in divergences:
        if event.data.get("sensor") != sensor_id:
            continue
        seq = event.seq or 0
        end = next((time for at, time in cleared if at > seq), None)
        spans.append({"start": _number(event.data.get("since")) or event.time, "end": end,
                      "raised_at": event.time, "direction": event.data.get("direction"),
                      "size": _number(event.data.get("size")),
                      "size_sd": _number(event.data.get("size_sd"))})
    return spans


def _columns(times: NDArray[np.float64], values: NDArray[np.float64],
             predicted: NDArray[np.float64], sd: NDArray[np.float64],
             normalised: NDArray[np.float64], z: float) -> dict[str, Any]:
    return {"time": times.tolist(), "value": _floats(values), "predicted": _floats(predicted),
            "low": _floats(predicted - z * sd), "high": _floats(predicted + z * sd),
            "sd": _floats(sd), "normalised": _floats(normalised)}


def _buckets(times: NDArray[np.float64], values: NDArray[np.float64],
             predicted: NDArray[np.float64], sd: NDArray[np.float64], z: float,
             start: float, every: float) -> dict[str, Any]:
    """Per ``every``-second bucket from ``start`` that holds readings: the readings' mean,
    min and max, the mean prediction and the band's lowest and highest edge (of the
    readings predicted; null in a bucket without one)."""
    if times.size == 0:
        empty: list[Any] = []
        return {"time": empty, "value": [], "min": [], "max": [], "predicted": [], "low": [],
                "high": [], "count": []}
    index = np.floor((times - start) / every).astype(np.int64)
    firsts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    counts = np.diff(np.r_[firsts, index.size])
    known = np.isfinite(predicted)
    predicted_count = np.add.reduceat(known.astype(np.int64), firsts)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.add.reduceat(np.where(known, predicted, 0.0), firsts) \
            / predicted_count
    low = np.fmin.reduceat(predicted - z * sd, firsts)
    high = np.fmax.reduceat(predicted + z * sd, firsts)
    return {"time": (start + index[firsts] * every).tolist(),
            "value": _floats(np.add.reduceat(values, firsts) / counts),
            "min": _floats(np.minimum.reduceat(values, firsts)),
            "max": _floats(np.maximum.reduceat(values, firsts)),
            "predicted": _floats(np.where(predicted_count > 0, mean_predicted, np.nan)),
            "low": _floats(low), "high": _floats(high), "count": counts.tolist()}


def _floats(column: NDArray[np.float64]) -> list[float | None]:
    return [finite_or_none(v) for v in column.tolist()]


async def track(service: TwinService, element_id: str, name: str, start: float, end: float,
                *, every: float | None = None, coverage: float = COVERAGE) -> dict[str, Any]:
    """The property's sensors over [start, end): measured, predicted, interval, spans."""
    check_range(start, end)
    if not 0.0 < coverage < 1.0:
        raise InvalidInput("coverage: a share in (0, 1), such as 0.9", "bad_coverage")
    if every is not None and not (every > 0 and (end - start) / every <= MAX_READINGS):
        raise InvalidInput(f"every: at most {MAX_READINGS:,} buckets in the range",
                           "bad_interval")
    sensors, knobs, enabled = await service.view(_sensors_of, service, element_id, name)
    if not enabled:
        raise Conflict("the twin's models are off (the twin_models setting)")
    store = service.store
    z = z_of(coverage)

    def compute() -> dict[str, Any]:
        windows = []
        total = 0
        for sensor in sensors:
            history = store.history(sensor.row, start, end, MAX_READINGS + 1)
            total += history.event_time.size
            if total > MAX_READINGS:
                raise InvalidInput(
                    f"more than {MAX_READINGS:,} readings of property {shown(name)} in the "
                    f"range; ask for a shorter one", "too_many_readings")
            windows.append(history)
        divergences, complete = _events(store, element_id, "twin_divergence")
        clears, all_clears = _events(store, element_id, "alarm_cleared")
        answered = []
        for sensor, history in zip(sensors, windows, strict=True):
            keep = _used(history.event_time, history.value, history.flags)
            times, values = history.event_time[keep], history.value[keep]
            # Nothing in the range: nothing to warm up for.
            lead_times, lead_values, lead_quality = (
                _lead(store, sensor.row, start, times) if times.size else (times, times, times))
            tracker = PredictingTracker.with_knobs(knobs)
            all_times = np.concatenate([lead_times, times])
            run = tracker.predict_many(np.zeros(all_times.size, dtype=np.int64), all_times,
                                       np.concatenate([lead_values, values]),
                                       np.concatenate([lead_quality, history.quality[keep]]))
            inside = slice(lead_times.size, None)
            predicted, sd = run.predicted[inside], run.sd[inside]
            known = np.flatnonzero(np.isfinite(predicted))
            readings = (_buckets(times, values, predicted, sd, z, start, every)
                        if every is not None else
                        _columns(times, values, predicted, sd, run.update.normalised[inside],
                                 z))
            spans = [s for s in divergence_spans(divergences, clears, sensor.sensor_id)
                     if s["start"] < end and (s["end"] is None or s["end"] >= start)]
            answered.append({
                "sensor_id": sensor.sensor_id, "unit": sensor.unit,
                "readings": int(times.size), "lead_readings": int(lead_times.size),
                "lead_from": finite_or_none(lead_times[0]) if lead_times.size else None,
                "warming_up": int(known[0]) if known.size else int(times.size),
                "predicted_from": float(times[known[0]]) if known.size else None,
                **readings, "divergences": spans})
        return {"element_id": element_id, "property": name, "start": start, "end": end,
                "every": every, "coverage": coverage, "sensors": answered,
                "spans_complete": complete and all_clears}

    result: dict[str, Any] = await asyncio.to_thread(compute)
    return result
