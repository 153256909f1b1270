"""Readings that plant an anomaly: what the API, service and browser tests send to make a
sensor depart from what it did.

A sensor is past the anomaly detector's learning only after a realistic history: with the
day as context (``NoveltyDetector``) its range is learned over a whole day at least and
its scores are told once a whole day of patterns is remembered, so the planted hour
follows ``HISTORY_DAYS`` days of the same regular course read every ``HISTORY_STEP``
seconds (stored as stale readings: they are scored and taught, not shown live)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

#: Seconds between a planted sensor's readings, and how many it sends: 480 readings, the
#: last 40 high, an hour ending at the time given.
STEP = 7.0
READINGS = 480
DEPARTS_AT = 440
#: The history before that hour: a reading every five minutes for two and a half days
#: (the warm-up's day, the day of patterns after it, and settling to spare).
HISTORY_STEP = 300.0
HISTORY_DAYS = 2.5
_DAY = 86_400.0


def calm(time: float, step: float) -> float:
    """The regular course of a planted sensor read every ``step`` seconds, at ``time``: ±2
    degrees round 20 over the day, held for ten minutes at a time, and 0.05 above or below
    it at every other reading (no two readings in a row the same: health would call a flat
    run stuck). Held so, each hour has the same few values whether the sensor is read every
    5 minutes or every few seconds, so the history teaches the detector every value, pair
    of values in a row and value at its hour that the planted hour's readings meet."""
    held = math.floor(time / 600.0) * 600.0
    every_other = 0.05 if math.floor(time / step) % 2 == 0 else -0.05
    return round(20 + 2 * math.sin(2 * math.pi * held / _DAY) + every_other, 3)


def history(sensors: Iterable[str], until: float) -> list[dict[str, Any]]:
    """Each sensor's ``HISTORY_DAYS`` days of its regular course before ``until``, a reading
    every ``HISTORY_STEP`` seconds; in time order per sensor."""
    count = int(HISTORY_DAYS * _DAY / HISTORY_STEP)
    return [{"sensor_id": sensor, "time": t, "value": calm(t, HISTORY_STEP)}
            for sensor in sensors
            for t in (until - (count - k) * HISTORY_STEP for k in range(count))]


def departure(sensors: Iterable[str], now: float, *, by: float = 6.0,
              within: bool = False) -> list[dict[str, Any]]:
    """Each sensor's history (``history``), then its last hour: 480 readings of its regular
    course every 7 s, the last 40 ``by`` degrees high; in time order per sensor.

    ``within``: the last 40 go instead to the far end of the course's range, a level the
    sensor has met but never at this hour nor straight after its level now. Some of the
    patterns those readings complete are known, so they score an anomaly below 1 (about
    two thirds), where a value beyond the range learned scores up to 1."""
    sensors = list(sensors)
    first = now - READINGS * STEP
    planted = []
    for sensor in sensors:
        planted += history([sensor], first)
        for k in range(READINGS):
            t = now - (READINGS - k) * STEP
            value = calm(t, STEP)
            if k >= DEPARTS_AT:
                value = (18.2 if calm(now, STEP) > 20 else 21.8) if within else value + by
            planted.append({"sensor_id": sensor, "time": t, "value": round(value, 3)})
    return planted


def planted_count(sensors: int = 1) -> int:
    """How many readings ``departure`` sends for ``sensors`` sensors."""
    return sensors * (int(HISTORY_DAYS * _DAY / HISTORY_STEP) + READINGS)
