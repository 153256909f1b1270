"""The thermal zones' divergence watch: its CUSUM over each round's zones gives the numbers
of ``divergence.Cusum`` over each zone's own residuals, whichever zones a round reads; in
the zone bank, zones whose R halves each start one episode, are recalibrated towards the
new R and end it, while the zones left alone start none; zones read by two sensors at
once start episodes at the watch's false-start rate, unless the two sensors' errors are
shared."""

from __future__ import annotations

import numpy as np

from twinsync.physics.divergence import Cusum
from twinsync.physics.simulate import zone_weather
from twinsync.physics.thermal import ThermalZone
from twinsync.physics.zone_bank import ZoneBank
from twinsync.physics.zone_watch import (
    ENDED,
    STARTED,
    WATCH_AFTER,
    Reading,
    ZoneWatch,
    fresh_columns,
)


def test_the_watch_over_each_rounds_zones_gives_the_cusum_of_each_zones_own_residuals() -> None:
    rng = np.random.default_rng(1)
    zones, rounds = 6, 300
    columns = fresh_columns(zones) | {"count": np.full(zones, WATCH_AFTER, dtype=np.int64)}
    watch = ZoneWatch(threshold=4.0)
    # Each round reads a random half of the zones; zone 0's residuals drift up.
    read = rng.random((zones, rounds)) < 0.5
    residuals = rng.normal(0.0, 1.0, (zones, rounds)) + np.where(np.arange(zones) == 0, 0.4,
                                                                  0.0)[:, None]
    started = np.zeros((zones, rounds), dtype=bool)
    for t in range(rounds):
        z = np.flatnonzero(read[:, t]).astype(np.int64)
        if z.size == 0:
            continue
        r = residuals[z, t]
        told = watch.observe(columns, Reading(z, np.full(z.size, 900.0 * t), r, np.ones(z.size),
                                              np.zeros(z.size), np.zeros(z.size),
                                              np.zeros(z.size), r, r,
                                              np.zeros((z.size, 5)), np.ones(z.size)))
        started[told.zones[told.code == STARTED], t] = True
        columns["count"][z] += 1
    detector = Cusum(threshold=4.0)
    oracle = detector.update_many(np.where(read, residuals, np.nan))
    kept = detector.save()
    for name in ("upper", "lower", "diverging"):
        assert np.allclose(columns[f"watch_{name}"], kept[name]), name
    # An episode starts where the CUSUM's first divergence starts, once: nothing here
    # restarts the sums (the bank does, when it recalibrates).
    first = np.array([row.argmax() if row.any() else -1 for row in oracle.started])
    mine = np.array([row.argmax() if row.any() else -1 for row in started])
    assert np.array_equal(first, mine) and first[0] >= 0


def test_zones_whose_resistance_halves_each_start_one_episode_and_are_recalibrated_towards_it(
        ) -> None:
    rng = np.random.default_rng(4)
    zones, days, change = 6, 10, 5 * 96
    bank = ZoneBank()
    bank.grow(zones)
    knobs = bank.knobs
    resistance, capacitance = rng.uniform(2, 10, zones), rng.uniform(5, 30, zones)
    outdoor, heating = zone_weather(rng, zones, days * 96, 0.25)
    model = ThermalZone()
    state = model.state(np.full(zones, 18.0), resistance, capacitance)
    halved = np.arange(zones) < 3
    everyone = np.arange(zones, dtype=np.int64)
    codes: list[tuple[int, int, int, float, float]] = []
    for t in range(days * 96):
        if t == change:
            state[halved, 1] -= np.log(2.0)
        reading = state[:, 0] + rng.normal(0, knobs.noise_sd, zones)
        held = max(t - 1, 0)
        told = bank.update(everyone, np.full(zones, 900.0 * t), reading, np.ones(zones),
                           outdoor[:, held], heating[:, held])
        codes += [(t, int(z), int(c), float(np.exp(b[1])), float(np.exp(a[1])))
                  for z, c, b, a in zip(told.zones, told.code, told.before, told.after,
                                        strict=True)]
        state = model.step(state, 0.25, np.column_stack([outdoor[:, t], heating[:, t]]))
        state[:, 0] += rng.normal(0, np.sqrt(knobs.temperature_noise * 0.25), zones)
    starts = [c for c in codes if c[2] == STARTED]
    assert sorted(z for _, z, *_ in starts) == [0, 1, 2]
    for t, z, _, before, after in starts:
        assert change <= t < change + 96  # told within a day
        new = resistance[z] / 2
        assert abs(after - new) < abs(before - new)
    ends = [(t, z) for t, z, c, *_ in codes if c == ENDED]
    assert sorted(z for _, z in ends) == [0, 1, 2]
    learned = np.exp(bank.columns["x"][:, 1])
    assert np.allclose(learned[halved], resistance[halved] / 2, rtol=0.05)
    assert np.allclose(learned[~halved], resistance[~halved], rtol=0.05)
    assert bank.columns["episodes"].tolist() == [1, 1, 1, 0, 0, 0]


def watch_rounds(watch: ZoneWatch, columns: dict[str, np.ndarray], start: int,
                 normalised: np.ndarray, quality: np.ndarray) -> list[int]:
    """One zone read ``normalised.size`` rounds from ``start``; the codes it was told."""
    codes: list[int] = []
    z = np.zeros(1, dtype=np.int64)
    for t, (r, q) in enumerate(zip(normalised, quality, strict=True)):
        told = watch.observe(columns, Reading(z, np.full(1, 900.0 * (start + t)), np.full(1, r),
                                              np.full(1, q), np.zeros(1), np.zeros(1),
                                              np.zeros(1), np.full(1, r), np.full(1, r),
                                              np.zeros((1, 5)),
                                              np.ones(1)))
        codes += told.code.tolist()
        columns["count"][z] += 1
    return codes


def test_an_episode_does_not_end_on_readings_the_watch_did_not_take() -> None:
    # A room sensor stuck in an episode: health doubts its readings (quality 0.1), so the
    # watch takes none of them; they say nothing of the model being back in step, and
    # its alarm is not cleared on them, however many come.
    columns = fresh_columns(1) | {"count": np.full(1, WATCH_AFTER, dtype=np.int64)}
    watch = ZoneWatch()
    codes = watch_rounds(watch, columns, 0, np.full(30, 3.0), np.ones(30))
    assert codes[0] == STARTED and columns["episode"][0] == 1.0
    # The bank restarts the sums when it recalibrates.
    columns["watch_upper"][0] = columns["watch_lower"][0] = columns["watch_diverging"][0] = 0
    codes = watch_rounds(watch, columns, 30, np.full(200, 3.0), np.full(200, 0.1))
    assert ENDED not in codes and columns["episode"][0] == 1.0
    # Trusted readings in step again end it, after as many as ever.
    codes = watch_rounds(watch, columns, 230, np.zeros(40), np.ones(40))
    assert codes.count(ENDED) == 1 and columns["episode"][0] == 0.0


def two_sensor_starts(*, copied: bool, seed: int = 11) -> int:
    """Episodes started in 20 zones of known R and C over 6 days, each read at once by
    two air sensors with the filter's noise; ``copied``: the second reads the first's
    reading plus its own noise (its error shares the first's and is sqrt(2) as large)."""
    rng = np.random.default_rng(seed)
    zones, slots = 20, 6 * 96
    bank = ZoneBank()
    bank.grow(zones)
    sd = bank.knobs.noise_sd
    outdoor, heating = zone_weather(rng, zones, slots, 0.25)
    model = ThermalZone()
    state = model.state(np.full(zones, 18.0), rng.uniform(2, 10, zones),
                        rng.uniform(5, 30, zones))
    both = np.repeat(np.arange(zones, dtype=np.int64), 2)
    starts = 0
    for t in range(slots):
        first = rng.normal(0, sd, zones)
        own = rng.normal(0, sd, zones)
        second = first + own if copied else own
        reading = np.repeat(state[:, 0], 2) + np.column_stack([first, second]).ravel()
        held = max(t - 1, 0)
        told = bank.update(both, np.full(2 * zones, 900.0 * t), reading, np.ones(2 * zones),
                           np.repeat(outdoor[:, held], 2), np.repeat(heating[:, held], 2))
        starts += int(np.count_nonzero(told.code == STARTED))
        state = model.step(state, 0.25, np.column_stack([outdoor[:, t], heating[:, t]]))
        state[:, 0] += rng.normal(0, np.sqrt(bank.knobs.temperature_noise * 0.25), zones)
    return starts


def test_zones_read_by_two_sensors_with_their_own_noise_start_episodes_only_at_the_false_start_rate(
        ) -> None:
    # The filter takes a zone's readings of one time as the room plus each sensor's own
    # noise: so taken, two sensors are watched as one is, at the watch's false-start rate
    # (a start per 15,000 readings or so: 23,040 readings here, seeds 11-14 gave 1, 3, 0
    # and 3). Errors the two share (one sensor's readings copied with noise onto another,
    # as the service's two-sensor test once did, or two sensors in the same draught) are
    # counted as more than they are, and the watch takes the misses for divergence (seeds
    # 11-14: 66, 85, 60 and 69).
    assert two_sensor_starts(copied=False) <= 3
    assert two_sensor_starts(copied=True) >= 30
