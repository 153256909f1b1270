"""Readings that plant an anomaly: what the API, service and browser tests send to make a
sensor depart from what it did."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

#: Seconds between a planted sensor's readings, and how many it sends: 480 readings, the
#: last 40 high, an hour ending at the time given.
STEP = 7.0
READINGS = 480
DEPARTS_AT = 440


def departure(sensors: Iterable[str], now: float, *, by: float = 6.0) -> list[dict[str, Any]]:
    """The last hour of each sensor: a regular ten-minute cycle of ±2 degrees round 20, past
    the anomaly detector's learning (``NoveltyDetector``: 300 readings and 100 more), then
    its last 40 readings ``by`` degrees high; in time order per sensor."""
    return [{"sensor_id": sensor, "time": now - (READINGS - k) * STEP,
             "value": round(20 + 2 * math.sin(2 * math.pi * k * STEP / 600)
                            + (by if k >= DEPARTS_AT else 0.0), 3)}
            for sensor in sensors for k in range(READINGS)]
