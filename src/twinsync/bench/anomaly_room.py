"""``twinsync bench anomaly-room``: what a detector tells of a calm room read often, in its
first days, and whether it still finds a jump planted after them.

A room's air follows the same daily course every day (``--swing`` K either side of 21 °C,
coldest at 03:00 UTC, with 0.05 K of noise), read every ``--every`` seconds from
``--start-hour`` UTC for ``--days`` days; at the first noon after them it jumps ``--jump`` K
for an hour. The detector (its defaults, as the service runs it) takes the readings in one
pass; the figures are the readings of the calm days at the monitor's event and alarm
scores (0.33, 0.6: anomalies nobody should be told of), when the first came, and how soon
the jump scored an event. This is the demo's case: its rooms run on the wall clock, read
every 2 s, and a detector that learns a range from its first minutes finds each later hour
of the day a level it has never seen.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..analytics.detectors import DETECTORS

__all__ = ["room_readings"]

_DAY = 86_400.0
#: The monitor's default thresholds (``AnomalyMonitor``): an event, an alarm.
EVENT_AT, ALARM_AT = 0.33, 0.6
#: 2026-01-05 00:00 UTC: a Monday, so a day of the week never moves the figures.
_MIDNIGHT = 1_767_571_200.0


def room_readings(every: float, days: int, *, start_hour: float = 8.0, swing: float = 2.5,
                  jump: float = 6.0, noise: float = 0.05,
                  seed: int = 1) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Event times and values of one room read every ``every`` seconds: ``days`` calm days
    from ``start_hour`` UTC, then, from the first noon after them, an hour ``jump`` K
    higher and an hour calm again. Returns the times, the values and the jump's start."""
    start = _MIDNIGHT + start_hour * 3600.0
    jump_at = _MIDNIGHT + (math.ceil(start_hour / 24.0 + days - 0.5) + 0.5) * _DAY
    times = start + np.arange(0.0, jump_at + 2 * 3600.0 - start, every)
    course = 21.0 - swing * np.cos(2 * np.pi * ((times - _MIDNIGHT) / _DAY - 3.0 / 24.0))
    values = course + np.random.default_rng(seed).normal(0.0, noise, times.size)
    values[(times >= jump_at) & (times < jump_at + 3600.0)] += jump
    return times, np.round(values, 3), jump_at


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--every", default="2,10,60",
                        help="seconds between readings, comma-separated (default 2,10,60)")
    parser.add_argument("--days", type=int, default=4, help="calm days (default 4)")
    parser.add_argument("--start-hour", type=float, default=8.0, dest="start_hour",
                        help="hour of the day (UTC) of the first reading (default 8)")
    parser.add_argument("--swing", type=float, default=2.5,
                        help="the daily course, K either side of its mean (default 2.5)")
    parser.add_argument("--jump", type=float, default=6.0, help="K (default 6)")
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="novelty")
    parser.add_argument("--seed", type=int, default=1)


def one_room(detector: str, every: float, args: argparse.Namespace) -> dict[str, Any]:
    times, values, jump_at = room_readings(every, args.days, start_hour=args.start_hour,
                                           swing=args.swing, jump=args.jump, seed=args.seed)
    scores = DETECTORS[detector]().learn_many(np.zeros(times.size, dtype=np.int64),
                                              {"time": times, "value": values})
    calm = times < jump_at
    events = np.flatnonzero(calm & (scores >= EVENT_AT))
    found = np.flatnonzero(~calm & (scores >= EVENT_AT))
    return {
        "every_seconds": every,
        "readings": int(times.size),
        "calm_events": int(events.size),
        "calm_alarms": int(np.count_nonzero(calm & (scores >= ALARM_AT))),
        "first_event_hours": (None if events.size == 0
                              else round(float(times[events[0]] - times[0]) / 3600.0, 2)),
        "jump_found_after_seconds": (None if found.size == 0
                                     else round(float(times[found[0]] - jump_at), 1)),
        "jump_score": round(float(scores[~calm].max()), 3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rooms = [one_room(args.detector, float(every), args) for every in args.every.split(",")]
    for room in rooms:
        print(f"every {room['every_seconds']:g} s: {room['calm_events']} event and "
              f"{room['calm_alarms']} alarm scores in {args.days} calm days (first after "
              f"{room['first_event_hours']} h); the {args.jump:g} K jump scored "
              f"{room['jump_score']}, an event after {room['jump_found_after_seconds']} s")
    return {"detector": args.detector, "days": args.days, "start_hour": args.start_hour,
            "swing": args.swing, "jump": args.jump, "rooms": rooms}
