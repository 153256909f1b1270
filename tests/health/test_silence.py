"""Silence is judged by when readings arrive; intermittent dropouts are named once; a clock
that runs behind is ``clock``, not offline."""

from __future__ import annotations

import numpy as np

from twinsync.health import HealthMonitor
from twinsync.health.states import CLOCK_QUALITY

MINUTE = 60.0
HOUR = 3600.0


def _signal(t: float) -> float:
    return 20.0 + 0.5 * np.sin(2 * np.pi * t / 86_400.0) + 0.01 * ((t // MINUTE) % 3)


def _run(monitor: HealthMonitor, stamps: list[float], arrivals: list[float],
         until: float, offset: float = 0.0) -> list[tuple[float, str, str, str]]:
    """Deliver reading ``stamps[i]`` (stamped ``+ offset``) at ``arrivals[i]``, ticking every
    minute of arrival time; return (time, old, new, reason) of every change."""
    changes: list[tuple[float, str, str, str]] = []
    by_arrival: dict[float, list[float]] = {}
    for stamp, at in zip(stamps, arrivals, strict=True):
        by_arrival.setdefault(at, []).append(stamp)
    now = min(by_arrival)  # the watch starts with the first reading
    for at in [*sorted(by_arrival), until]:
        while now + MINUTE <= at:
            now += MINUTE
            changes += [(now, c.old, c.new, c.reason) for c in monitor.tick(now)]
        if at == until:
            break
        group = np.array(by_arrival[at])
        found = monitor.update_many(np.zeros(group.size, np.int64),
                                    [_signal(s) for s in group], group + offset,
                                    received_at=np.full(group.size, at))
        changes += [(at, c.old, c.new, c.reason) for c in found]
    return changes


def _new_states(changes: list[tuple[float, str, str, str]]) -> list[str]:
    return [new for _, _, new, _ in changes]


def test_a_one_minute_sensor_polled_in_groups_every_5_minutes_is_not_stale_between_groups(
        ) -> None:
    monitor = HealthMonitor()
    monitor.configure([0], expected_interval=[MINUTE])
    stamps = [MINUTE * i for i in range(1, 12 * 60)]
    # The poll after it, handed over in two pieces half a second apart.
    arrivals = [300.0 * (s // 300.0 + 1) + 20.0 + 0.5 * (s // MINUTE % 2) for s in stamps]
    changes = _run(monitor, stamps, arrivals, until=12 * HOUR - 600)
    # Before the second poll its pace is unknown, and five minutes is not the offline
    # time; the gap between the polls teaches the cadence; no silence between groups.
    assert changes == []
    assert monitor.state(0).state == "ok"


def test_a_sensor_never_heard_from_is_not_stale_but_offline_after_the_offline_time() -> None:
    # Nothing has come yet, so no reading is getting old: a device still joining, or a
    # gateway that sends every ten minutes, is no fault at minute three.
    monitor = HealthMonitor()
    monitor.configure([0, 1], expected_interval=[MINUTE, MINUTE])
    monitor.update_many([1], [20.0], [0.0], received_at=[0.0])
    states = []
    for minute in range(1, 15):
        monitor.update_many([1], [20.0 + 0.01 * (minute % 3)], [minute * MINUTE],
                            received_at=[minute * MINUTE])
        states += [(minute, c.new, c.reason) for c in monitor.tick(minute * MINUTE)
                   if c.row == 0]
    assert [(minute, new) for minute, new, _ in states] == [(14, "offline")]
    assert "no reading yet" in states[0][2]


def test_a_one_minute_sensor_with_intermittent_gaps_is_named_once_not_every_gap() -> None:
    monitor = HealthMonitor()
    monitor.configure([0], expected_interval=[MINUTE])
    rng = np.random.default_rng(3)
    minutes = np.arange(1, 10 * 60)
    # From 3 h to 7 h, clumps of 4-6 readings lost about every 20 minutes.
    lost = np.zeros(minutes.size, dtype=bool)
    for start in range(180, 420, 20):
        lost[start:start + int(rng.integers(4, 7))] = True
    stamps = [MINUTE * m for m in minutes[~lost]]
    changes = _run(monitor, stamps, [s + 2.0 for s in stamps], until=10 * HOUR)
    named = [c for c in changes if c[2] in ("stale", "offline")]
    assert len(named) == 1
    assert 3 * HOUR < named[0][0] < 3.2 * HOUR
    # Let go once regular for the hold (an hour) after the last gap.
    back = MINUTE * (minutes[lost][-1] + 1) + 2.0
    freed = [c for c in changes if c[1] == "stale"]
    assert len(freed) == 1 and back + HOUR < freed[0][0] <= back + HOUR + MINUTE
    assert freed[0][2] == "ok" and monitor.state(0).state == "ok"


def test_the_reason_of_an_intermittent_sensor_counts_its_gaps() -> None:
    monitor = HealthMonitor()
    monitor.configure([0], expected_interval=[MINUTE])
    minutes = np.arange(1, 4 * 60 + 30)
    lost = np.zeros(minutes.size, dtype=bool)
    for start in range(120, 240, 20):  # 2 h to 3.8 h
        lost[start:start + 5] = True
    stamps = [MINUTE * m for m in minutes[~lost]]
    _run(monitor, stamps, [s + 2.0 for s in stamps], until=4.5 * HOUR)
    status = monitor.state(0)
    assert status.state == "stale"
    assert status.reason.startswith("intermittent: 6 gaps in 1.8 h (expected every")


def test_a_device_clock_an_hour_behind_gives_clock_not_offline_and_clears() -> None:
    monitor = HealthMonitor()
    monitor.configure([0], expected_interval=[MINUTE])
    stamps = [MINUTE * i for i in range(1, 10 * 60)]
    arrivals = [s + 2.0 for s in stamps]
    # From 3 h to 6 h the device stamps its readings an hour behind.
    behind = [s - HOUR if 3 * HOUR <= s < 6 * HOUR else s for s in stamps]
    changes: list[tuple[float, str, str, str]] = []
    now = arrivals[0]
    for stamp, at in zip(behind, arrivals, strict=True):
        while now + MINUTE <= at:
            now += MINUTE
            changes += [(now, c.old, c.new, c.reason) for c in monitor.tick(now)]
        changes += [(at, c.old, c.new, c.reason) for c in monitor.update_many(
            np.array([0]), [_signal(stamp)], [stamp], received_at=[at])]
    assert "stale" not in _new_states(changes) and "offline" not in _new_states(changes)
    clock = [c for c in changes if c[2] == "clock"]
    assert len(clock) == 1 and 3 * HOUR < clock[0][0] <= 4.1 * HOUR
    assert clock[0][3] == ("clock 60 min behind: readings arrive on time, stamped 60 min "
                           "before they arrive")
    cleared = [c for c in changes if c[1] == "clock"]
    assert len(cleared) == 1 and 6 * HOUR <= cleared[0][0] < 6 * HOUR + 2 * MINUTE
    assert cleared[0][2] == "ok"


def test_a_sensor_with_a_wrong_clock_is_below_the_fusion_threshold() -> None:
    assert CLOCK_QUALITY < 0.5


def test_a_truly_silent_sensor_still_goes_stale_then_offline_on_time() -> None:
    monitor = HealthMonitor()
    monitor.configure([0], expected_interval=[MINUTE])
    stamps = [MINUTE * i for i in range(1, 3 * 60)]
    changes = _run(monitor, stamps, [s + 2.0 for s in stamps], until=5 * HOUR)
    last = stamps[-1] + 2.0
    # Its cadence is a high quantile of its gaps, a little over a minute: the first tick
    # (once a minute here) past 3 and 12 of it.
    assert [new for _, _, new, _ in changes] == ["stale", "offline"]
    (stale, _, _, _), (offline, _, _, _) = changes
    assert 3 * MINUTE < stale - last <= 4 * MINUTE
    assert 12 * MINUTE < offline - last <= 13 * MINUTE
