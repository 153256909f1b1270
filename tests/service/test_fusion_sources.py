"""A field measurement and a model's prediction join a property's sensors by inverse
variance: the Kalman update in information form, each source's share shown."""

from __future__ import annotations

import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.model import Binding, Element, Sensor, Twin
from twinsync.pipeline import Pipeline, SensorTable
from twinsync.service.field_sources import FIELD, OTHER_SOURCES, aged_variance, sensor_rate
from twinsync.service.fusion import MIN_QUALITY, Fused, OtherSources, PropertyIndex

PREDICTION = OTHER_SOURCES.index("prediction")


def slab(count: int) -> tuple[PropertyIndex, SensorTable]:
    twin = Twin()
    twin.add_element(Element("slab", "IfcSlab"))
    for s in range(count):
        twin.add_sensor(Sensor(f"s{s}", "temperature", "degC"))
        twin.bind_sensor(Binding(f"s{s}", "slab", "temperature"))
    table = Pipeline(twin).table
    return PropertyIndex.build(twin, table), table


def fuse(values: list[float], trust: list[float], noise: list[float], *,
         field: tuple[float, float] | None = None,
         prediction: tuple[float, float] | None = None) -> Fused:
    """One property of ``len(values)`` sensors with a field measurement and/or a
    prediction, each as (value, variance); with no sensor value, one sensor never heard."""
    count = len(values)
    index, table = slab(max(count, 1))
    table.last_value[:count], table.count[:count] = values, 1
    table.last_event_time[:count], table.last_quality[:count] = 100.0, np.nan
    others = OtherSources.empty(1, OTHER_SOURCES)
    for column, source in ((FIELD, field), (PREDICTION, prediction)):
        if source is not None:
            others.value[0, column], others.variance[0, column] = source
            others.time[0, column], others.confidence[0, column] = 50.0, 0.8
    quality, variance = np.array([*trust, 1.0]), np.array([*noise, 1.0])
    return index.fuse(np.array([0]), table, sensor_quality=lambda rows: quality[rows],
                      sensor_noise=lambda rows: variance[rows], others=others)


def shares(fused: Fused) -> tuple[list[float], list[float]]:
    assert fused.share is not None and fused.other_share is not None
    return fused.share.tolist(), fused.other_share[0].tolist()


def test_a_field_measurement_is_weighed_against_two_sensors_by_inverse_variance() -> None:
    """By hand: weights 1/1, 1/4 and 1/0.5 sum to 3.25; the value is
    (20 + 22/4 + 21·2) / 3.25 = 20.7692; the uncertainty √(1/3.25) = 0.5547 (χ² = 1.08 over
    2 degrees of freedom: the sources agree, no widening)."""
    fused = fuse([20.0, 22.0], [1.0, 1.0], [1.0, 4.0], field=(21.0, 0.5))
    assert math.isclose(fused.value[0], 67.5 / 3.25, rel_tol=1e-12)
    assert fused.uncertainty is not None
    assert math.isclose(fused.uncertainty[0], math.sqrt(1 / 3.25), rel_tol=1e-12)
    sensors, others = shares(fused)
    assert np.allclose(sensors, [1 / 3.25, 0.25 / 3.25])
    assert np.allclose(others, [2 / 3.25, 0.0])
    assert fused.time[0] == 100.0 and fused.confidence[0] == 1.0


def test_a_doubted_sensor_has_its_variance_inflated_by_its_trust() -> None:
    """Trust 0.5 doubles a sensor's variance (1 → 2): against a field measurement of
    variance 2 the two weigh the same, where at full trust the sensor weighed twice as much."""
    doubted = fuse([20.0], [0.5], [1.0], field=(22.0, 2.0))
    trusted = fuse([20.0], [1.0], [1.0], field=(22.0, 2.0))
    assert math.isclose(doubted.value[0], 21.0, rel_tol=1e-12)
    assert np.allclose(shares(doubted)[0], [0.5]) and np.allclose(shares(trusted)[0], [2 / 3])
    assert math.isclose(trusted.value[0], (20.0 + 11.0) / 1.5, rel_tol=1e-12)


def test_a_prediction_fused_with_a_sensor_is_the_kalman_update() -> None:
    """Prior 19 ± 1 (variance 1), measurement 21 with variance 1: gain K = P / (P + R) =
    0.5, posterior 19 + K·(21 - 19) = 20 with variance (1 - K)·P = 0.5. The two disagree by
    2 against a combined sd of √2, so the Birge ratio (√2) widens the uncertainty to 1."""
    fused = fuse([21.0], [1.0], [1.0], prediction=(19.0, 1.0))
    prior, variance, reading, noise = 19.0, 1.0, 21.0, 1.0
    gain = variance / (variance + noise)
    assert math.isclose(fused.value[0], prior + gain * (reading - prior), rel_tol=1e-12)
    assert fused.spread is not None and fused.uncertainty is not None
    assert math.isclose(fused.uncertainty[0] / fused.spread[0],
                        math.sqrt((1 - gain) * variance), rel_tol=1e-12)
    assert math.isclose(fused.spread[0], math.sqrt(2.0), rel_tol=1e-12)
    assert np.allclose(shares(fused)[1], [0.0, 0.5])


def test_with_no_sensor_trusted_the_field_measurement_carries_the_value_alone() -> None:
    fused = fuse([20.0, 30.0], [0.2, 0.1], [1.0, 1.0], field=(21.0, 0.09))
    assert fused.value[0] == 21.0 and not fused.used.any()
    assert fused.uncertainty is not None and math.isclose(fused.uncertainty[0], 0.3)
    assert shares(fused) == ([0.0, 0.0], [1.0, 0.0])
    assert fused.confidence[0] == 0.8 and fused.time[0] == 50.0


def test_against_a_sensor_of_unknown_noise_a_field_measurement_is_not_weighed() -> None:
    """Health is still learning the sensor's noise: there is no weight to give the field
    measurement against it, so the sensors alone carry the value as before."""
    fused = fuse([20.0], [1.0], [math.nan], field=(25.0, 0.01))
    assert fused.value[0] == 20.0 and shares(fused)[1] == [0.0, 0.0]
    assert fused.other_used is not None and not fused.other_used.any()


def test_a_field_measurement_old_enough_fades_out_against_a_sensor() -> None:
    """The same measurement (± 0.1) against a sensor of variance 0.25, aged by a rate of
    1e-5 °C²/s: fresh it carries 96 % of the value, thirty days later under 1 %."""
    fresh = fuse([20.0], [1.0], [0.25], field=(21.0, aged_variance(0.1, 0.0, 1e-5)))
    old = fuse([20.0], [1.0], [0.25], field=(21.0, aged_variance(0.1, 30 * 86400.0, 1e-5)))
    assert shares(fresh)[1][FIELD] > 0.96 and shares(old)[1][FIELD] < 0.01
    assert fresh.value[0] > 20.9 and old.value[0] < 20.01


source = st.tuples(st.floats(-50, 50), st.floats(1e-3, 10.0))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(MIN_QUALITY, 1.0),
                          st.floats(1e-3, 10.0)), min_size=0, max_size=4),
       source, st.one_of(st.none(), source), st.floats(1.01, 100.0))
def test_sources_share_the_value_wholly_and_none_is_more_certain_than_the_fusion(
        sensors: list[tuple[float, float, float]], field: tuple[float, float],
        prediction: tuple[float, float] | None, inflation: float) -> None:
    """Whatever the sources: the shares sum to 1; the uncertainty before the Birge
    widening never exceeds the smallest source's (√(v / trust) of a sensor, √v of the
    others); and a field measurement whose variance is inflated loses weight (unless it is
    alone) while every other source gains."""
    values = [v for v, _, _ in sensors]
    trust = [t for _, t, _ in sensors]
    noise = [n for _, _, n in sensors]
    fused = fuse(values, trust, noise, field=field, prediction=prediction)
    sensor_shares, other_shares = shares(fused)
    assert math.isclose(sum(sensor_shares) + sum(other_shares), 1.0, rel_tol=1e-9)
    assert fused.uncertainty is not None and fused.spread is not None
    sigmas = [math.sqrt(n / t) for t, n in zip(trust, noise, strict=True)]
    sigmas += [math.sqrt(s[1]) for s in (field, prediction) if s is not None]
    assert fused.uncertainty[0] / fused.spread[0] <= min(sigmas) * (1 + 1e-12)
    inflated = fuse(values, trust, noise, field=(field[0], field[1] * inflation),
                    prediction=prediction)
    after_sensors, after_others = shares(inflated)
    if sensors or prediction is not None:
        assert after_others[FIELD] < other_shares[FIELD]
    else:  # alone it carries the value whatever its variance
        assert after_others[FIELD] == other_shares[FIELD] == 1.0
    assert all(a >= b * (1 - 1e-12) for a, b in zip(after_sensors, sensor_shares,
                                                    strict=True))
    assert after_others[PREDICTION] >= other_shares[PREDICTION] * (1 - 1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(1e-3, 10.0), st.floats(0.01, 10.0))
def test_a_sensor_doubted_more_loses_weight_monotonically(noise: float,
                                                          field_variance: float) -> None:
    weights = [shares(fuse([20.0, 21.0], [trust, 1.0], [noise, 1.0],
                           field=(20.5, field_variance)))[0][0]
               for trust in (1.0, 0.9, 0.75, 0.6, MIN_QUALITY)]
    assert all(later < earlier for earlier, later in itertools.pairwise(weights))


def test_a_random_walk_rate_is_learned_from_a_sensors_readings() -> None:
    """A walk of rate 0.01 °C²/s sampled every 60 s through noise of sd 0.2: the moment
    estimate over 2,000 differences is within 15 % of the truth, where taking the raw
    movement (noise included) would read 0.6 + 0.08/60 too high."""
    rng = np.random.default_rng(7)
    t = np.arange(2001.0) * 60.0
    truth = np.cumsum(rng.normal(0.0, math.sqrt(0.01 * 60.0), t.size))
    readings = truth + rng.normal(0.0, 0.2, t.size)
    rate = sensor_rate(readings, t, np.ones(t.size, dtype=np.int8), 0.04)
    assert abs(rate - 0.01) < 0.0015


def test_readings_held_out_of_the_robust_fit_are_not_taken_for_movement() -> None:
    t = np.arange(50.0)
    values = np.full(50, 20.0) + 0.01 * (t % 2)
    spiked = values.copy()
    spiked[25] = 80.0
    flags = np.ones(50, dtype=np.int8)
    flags[25] = 0  # a spike, held out
    assert sensor_rate(spiked, t, flags, 1e-4) == sensor_rate(
        np.delete(values, 25), np.delete(t, 25), np.delete(flags, 25), 1e-4)
    assert math.isnan(sensor_rate(values[:5], t[:5], flags[:5], 1e-4))  # too few
