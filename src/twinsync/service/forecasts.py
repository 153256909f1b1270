"""A property's forecast in the service: which sensors feed it is read on the writer, their
stored readings of the last ``WINDOW_SECONDS`` are read from the store and the local
level/trend fitted to them in a worker thread (``physics/forecast.py``). A thermal zone's
air temperature is answered by the zone's own model instead (``zone_forecasts.py``),
from its filter's state copied on the writer. Nothing is kept: a forecast is computed
when asked, and the reading path does none of this work.
"""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Conflict, InvalidInput, NotFound
from ..model.validate import shown
from ..physics.forecast import MIN_READINGS, TooFewReadings, forecast_readings
from ..pipeline.batch import NOT_BELIEVED

# COVERAGE: the interval every forecast answers, besides the quantiles asked for.
from .zone_forecasts import COVERAGE, ZoneStart, answer, stored, zone_start

if TYPE_CHECKING:
    from .twin_service import TwinService

#: The readings a forecast is fitted on: the last two days. Long enough for hundreds of
#: readings at a reading every few minutes (the trend and the noise are told apart), short
#: enough that the trend is today's and not last week's, and that one request reads a
#: bounded amount (the grid has at most ``physics.forecast.MAX_STEPS`` steps).
WINDOW_SECONDS = 2 * 86_400.0
#: At most this many readings of one sensor are read (a reading a second for the window).
MAX_READINGS = 172_800
#: The quantiles answered when none are asked for: the 90 % interval's ends and the median.
DEFAULT_QUANTILES = (0.05, 0.5, 0.95)


def parse_quantiles(text: str | None) -> tuple[float, ...]:
    """``0.05,0.5,0.95`` as probabilities, each in (0, 1); the defaults when not given."""
    if text is None:
        return DEFAULT_QUANTILES
    try:
        probabilities = tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise InvalidInput(
            f"quantiles: {shown(text)} is not a comma-separated list of numbers",
            "bad_quantiles",
        ) from exc
    outside = [p for p in probabilities if not 0.0 < p < 1.0]  # NaN is outside too
    if outside or len(probabilities) > 99:
        raise InvalidInput(
            f"quantiles: each must be in (0, 1), at most 99 of them; got {shown(text)}",
            "bad_quantiles",
        )
    return probabilities


def _property_rows(service: TwinService, element_id: str, name: str
                   ) -> tuple[list[int], str, ZoneStart | None]:
    """On the writer: the sensor rows that feed the property, its unit, and the thermal
    zone that models it (a copy of its state), if one does."""
    service.twin.element(element_id)  # NotFound for an unknown element
    index = service.properties
    number = index.number(element_id, name)
    if number is None:
        raise NotFound(
            f"element {shown(element_id)} has no property {shown(name)} fed by a sensor"
        )
    rows = index.members[index.starts[number] : index.starts[number + 1]].tolist()
    return rows, index.units[number], zone_start(service, element_id, name)


async def forecast(
    service: TwinService,
    element_id: str,
    name: str,
    horizon: float,
    *,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    threshold: float | None = None,
    steps: int = 12,
) -> dict[str, Any]:
    """The property's readings forecast ``steps`` times up to ``horizon`` seconds after its
    newest reading, fitted on the readings of its sensors in the last ``WINDOW_SECONDS``;
    a thermal zone's air temperature from its zone's model, after its last reading."""
    if threshold is not None and not math.isfinite(threshold):
        raise InvalidInput("threshold: must be a finite number", "bad_threshold")
    rows, unit, zone = await service.view(_property_rows, service, element_id, name)
    if zone is not None:
        def zone_answer(start: ZoneStart) -> dict[str, Any]:
            return answer(stored(start, service.store.history), horizon, steps, quantiles,
                          threshold, COVERAGE)

        ahead = await asyncio.to_thread(zone_answer, zone)
        if all(math.isfinite(v) for v in ahead["mean"] + ahead["deviation"]):
            return {"element_id": element_id, "property": name, "unit": unit,
                    "horizon": horizon, "threshold": threshold} | ahead
        # A zone whose filter has run off (absurd inputs): the readings' own model answers.
    now = service.clock()
    start, end = now - WINDOW_SECONDS, now + 1.0

    def compute() -> dict[str, Any]:
        histories = [service.store.history(row, start, end, MAX_READINGS) for row in rows]
        # A reading out of its sensor's physical range or at a time not believed is kept as
        # evidence, not fitted on: even at the quality floor's weight a rail value (-999)
        # pulls a step's mean by degrees.
        believed = np.concatenate([(h.flags & NOT_BELIEVED) == 0 for h in histories])
        times = np.concatenate([h.event_time for h in histories])[believed]
        values = np.concatenate([h.value for h in histories])[believed]
        quality = np.concatenate([h.quality for h in histories])[believed]
        source = np.repeat(np.arange(len(rows)),
                           [h.event_time.size for h in histories])[believed]
        try:
            # The grid's step is bounded by the readings' own span, not the window's: a
            # sensor that started an hour ago still has its readings on steps of their own.
            answer = forecast_readings(
                times, values, quality, horizon, steps, threshold, source=source
            )
        except TooFewReadings as exc:
            raise Conflict(
                f"property {shown(name)} of element {shown(element_id)}: {exc} in the last "
                f"{WINDOW_SECONDS / 3600:g} hours (at least {MIN_READINGS} are needed)"
            ) from exc
        low, high = answer.quantile((1 - COVERAGE) / 2), answer.quantile((1 + COVERAGE) / 2)
        return {
            "element_id": element_id,
            "property": name,
            "unit": unit,
            "model": answer.model,
            "parameters": answer.parameters,
            "readings": answer.readings,
            "steps_fitted": answer.steps_fitted,
            "step": answer.step,
            "window": WINDOW_SECONDS,
            "fitted_from": answer.fitted_from,
            "origin": answer.origin,
            "level": answer.level,
            "trend": answer.trend,
            "horizon": horizon,
            "time": answer.time,
            "mean": answer.mean,
            "deviation": answer.deviation,
            "coverage": COVERAGE,
            "low": low,
            "high": high,
            # keyed by the shortest text that reads back as the probability: with "%g",
            # 0.9999991 was keyed "0.999999" and 0.9999999 "1", each another probability
            "quantiles": {str(p): answer.quantile(p) for p in quantiles},
            "threshold": threshold,
            "crossing": answer.crossing,
        }

    result: dict[str, Any] = await asyncio.to_thread(compute)
    if not all(math.isfinite(v) for v in result["mean"]):
        # A series of values so large the fit overflowed: say so rather than answer NaN.
        raise Conflict(f"property {shown(name)}: its readings give no finite forecast")
    return result
