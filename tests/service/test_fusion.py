"""A property's shown value is fused from its sensors by the trust each deserves: a spike
or an untrusted sensor never sets it at full confidence."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.model import Binding, Element, Sensor, Twin
from twinsync.pipeline import IncomingBatch, Pipeline, RawReading
from twinsync.service import TwinService
from twinsync.service.fusion import MIN_QUALITY, PropertyIndex


def reference(values: list[float], counts: list[int], quality: list[float]
              ) -> tuple[float, float] | None:
    """Fusion of one property written out plainly: the weighted mean of the trusted, else
    the best sensor alone."""
    seen = [i for i, c in enumerate(counts) if c > 0]
    if not seen:
        return None
    trusted = [i for i in seen if quality[i] >= MIN_QUALITY]
    if trusted:
        total = sum(quality[i] for i in trusted)
        value = sum(values[i] * quality[i] for i in trusted) / total
        return value, max(quality[i] for i in trusted)
    best = max(seen, key=lambda i: (quality[i], -i))
    return values[best], quality[best]


sensor_state = st.tuples(st.floats(-50, 50), st.integers(0, 2), st.floats(0, 1),
                         st.one_of(st.just(float("nan")), st.floats(0, 1)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(sensor_state, min_size=1, max_size=4), min_size=1, max_size=6))
def test_fusing_many_properties_at_once_equals_fusing_each_alone(
        properties: list[list[tuple[float, int, float, float]]]) -> None:
    twin = Twin()
    for p, sensors in enumerate(properties):
        twin.add_element(Element(f"e{p}", "IfcWall"))
        for s in range(len(sensors)):
            twin.add_sensor(Sensor(f"s{p}-{s}", "temperature", "degC"))
            twin.bind_sensor(Binding(f"s{p}-{s}", f"e{p}", "temperature"))
    pipeline = Pipeline(twin)
    table = pipeline.table
    health = np.ones(len(table))
    for p, sensors in enumerate(properties):
        for s, (value, count, sensor_quality, reading_quality) in enumerate(sensors):
            row = table.index[f"s{p}-{s}"]
            table.last_value[row], table.count[row] = value, count
            table.last_event_time[row] = 100.0 + row
            health[row], table.last_quality[row] = sensor_quality, reading_quality
    index = PropertyIndex.build(twin, table)
    numbers = np.array([index.number(f"e{p}", "temperature") for p in range(len(properties))])
    fused = index.fuse(numbers, table, sensor_quality=lambda rows: health[rows])
    used_by_place = fused.rows_used_by_place()
    for p, sensors in enumerate(properties):
        assert used_by_place[p] == fused.rows[fused.used & (fused.group == p)].tolist()
        weights = [min(q, 1.0 if np.isnan(r) else r) for _, _, q, r in sensors]
        expected = reference([v for v, _, _, _ in sensors], [c for _, c, _, _ in sensors],
                             weights)
        assert bool(fused.has_value[p]) == (expected is not None)
        if expected is not None:
            assert fused.value[p] == np.float64(expected[0]) or np.isclose(
                fused.value[p], expected[0], rtol=1e-12, atol=1e-12)
            assert np.isclose(fused.confidence[p], expected[1])


async def test_a_spike_is_not_shown_at_full_confidence(service: TwinService) -> None:
    sensor, step = "L1-slab-t1", 2.0
    start = time.time() - 300 * step
    history = [RawReading(sensor, 30.0 + 0.05 * ((i * 7) % 5), start + step * i, None, i)
               for i in range(200)]
    for k in range(0, 200, 20):
        await service.ingest(IncomingBatch(history[k:k + 20], "gw",
                                           start + step * (k + 19) + 0.5))
    at = start + step * 200
    result = await service.ingest(IncomingBatch([RawReading(sensor, 46.4, at, None, 200)],
                                                "gw", at + 0.5))
    assert result.accepted == 1
    row = service.sensor_row(sensor)
    stored = service.store.history(row, at - 1, at + 1)
    assert stored.quality[-1] < MIN_QUALITY  # judged a spike where it was stored
    shown = service.element_snapshot("L1-slab")["properties"]["core_temperature"]
    assert shown["value"] != 46.4 or shown["confidence"] < MIN_QUALITY
    assert shown["confidence"] <= float(stored.quality[-1])


def inverse_variance(values: list[float], trust: list[float], noise: list[float]
                     ) -> tuple[float, float, list[float]]:
    """Written out plainly: the value, its uncertainty (with the Birge ratio) and each
    sensor's share, all sensors trusted and their noise known."""
    inverse = [t / v for t, v in zip(trust, noise, strict=True)]
    total = sum(inverse)
    value = sum(x * w for x, w in zip(values, inverse, strict=True)) / total
    chi2 = sum((x - value) ** 2 * w for x, w in zip(values, inverse, strict=True))
    birge = max(1.0, (chi2 / (len(values) - 1)) ** 0.5) if len(values) > 1 else 1.0
    return value, (1.0 / total) ** 0.5 * birge, [w / total for w in inverse]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(MIN_QUALITY, 1.0),
                          st.floats(1e-4, 4.0)), min_size=1, max_size=5))
def test_sensors_of_known_noise_are_fused_by_inverse_variance_inflated_by_doubt(
        sensors: list[tuple[float, float, float]]) -> None:
    twin = Twin()
    twin.add_element(Element("e", "IfcWall"))
    for s in range(len(sensors)):
        twin.add_sensor(Sensor(f"s{s}", "temperature", "degC"))
        twin.bind_sensor(Binding(f"s{s}", "e", "temperature"))
    table = Pipeline(twin).table
    trust, noise = np.ones(len(table)), np.full(len(table), np.nan)
    for s, (value, quality, variance) in enumerate(sensors):
        row = table.index[f"s{s}"]
        table.last_value[row], table.count[row], table.last_event_time[row] = value, 1, 1.0
        trust[row], noise[row], table.last_quality[row] = quality, variance, np.nan
    index = PropertyIndex.build(twin, table)
    fused = index.fuse(np.array([0]), table, sensor_quality=lambda rows: trust[rows],
                       sensor_noise=lambda rows: noise[rows])
    value, uncertainty, shares = inverse_variance(*map(list, zip(*sensors, strict=True)))
    assert np.isclose(fused.value[0], value, rtol=1e-9, atol=1e-9)
    assert fused.uncertainty is not None
    assert np.isclose(fused.uncertainty[0], uncertainty, rtol=1e-9)
    assert [share for _, share in fused.shares_by_place()[0]] == \
        [np.float64(s) for s in shares] or np.allclose(
            [share for _, share in fused.shares_by_place()[0]], shares)


def test_a_sensor_still_learning_its_noise_leaves_the_property_weighed_by_trust() -> None:
    twin = Twin()
    twin.add_element(Element("e", "IfcWall"))
    for s in ("a", "b"):
        twin.add_sensor(Sensor(s, "temperature", "degC"))
        twin.bind_sensor(Binding(s, "e", "temperature"))
    table = Pipeline(twin).table
    table.last_value[:2], table.count[:2], table.last_event_time[:2] = [20.0, 22.0], 1, 1.0
    noise = np.array([0.01, np.nan])  # b still learning
    fused = PropertyIndex.build(twin, table).fuse(
        np.array([0]), table, sensor_quality=lambda rows: np.ones(rows.size),
        sensor_noise=lambda rows: noise[rows])
    assert fused.value[0] == 21.0 and fused.uncertainty is not None
    assert np.isnan(fused.uncertainty[0])


async def test_a_fine_sensor_outweighs_a_coarse_one_and_the_weights_are_shown(
        tmp_path: object) -> None:
    """Two loggers on one slab, one in steps of 0.01 °C, one in steps of 0.5 °C: once
    health has learned their noise, the fine one carries most of the value, and the
    element's snapshot shows each one's share and the value's uncertainty."""
    service = TwinService.open(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await service.import_project(
            [Element("slab", "IfcSlab")],
            [Sensor("fine", "temperature", "degC", 60.0, resolution=0.01),
             Sensor("coarse", "temperature", "degC", 60.0, resolution=0.5)],
            [Binding("fine", "slab", "core_temperature"),
             Binding("coarse", "slab", "core_temperature")])
        rng = np.random.default_rng(2)
        start = time.time() - 200 * 60.0
        for k in range(0, 200, 20):
            readings = []
            for i in range(k, k + 20):
                truth = 20.0 + 0.5 * np.sin(i / 30)
                fine = float(round(truth + rng.normal(0, 0.02), 2))
                coarse = float(round((truth + rng.normal(0, 0.02)) * 2) / 2)
                readings.append(RawReading("fine", fine, start + 60.0 * i, None, i))
                readings.append(RawReading("coarse", coarse, start + 60.0 * i + 1, None, i))
            await service.ingest(IncomingBatch(readings, "gw", start + 60.0 * (k + 19) + 2))
        shown = service.element_snapshot("slab")["properties"]["core_temperature"]
        assert shown["weights"]["fine"] > 0.9 > shown["weights"]["coarse"] > 0.0
        assert 0.0 < shown["uncertainty"] < 0.1
        assert abs(shown["value"] - (20.0 + 0.5 * np.sin(199 / 30))) < 0.1
    finally:
        await service.aclose()


def test_the_best_sensor_alone_when_none_is_trusted_has_no_uncertainty() -> None:
    """Both sensors doubted (a spike each): the better one is shown with its low
    confidence, not with its noise divided by that doubt (± thousands of degrees)."""
    twin = Twin()
    twin.add_element(Element("e", "IfcWall"))
    for s in ("a", "b"):
        twin.add_sensor(Sensor(s, "temperature", "degC"))
        twin.bind_sensor(Binding(s, "e", "temperature"))
    table = Pipeline(twin).table
    table.last_value[:2], table.count[:2], table.last_event_time[:2] = [20.0, 22.0], 1, 1.0
    trust = np.array([0.2, 1e-9])
    fused = PropertyIndex.build(twin, table).fuse(
        np.array([0]), table, sensor_quality=lambda rows: trust[rows],
        sensor_noise=lambda rows: np.full(rows.size, 0.01))
    assert fused.value[0] == 20.0 and fused.confidence[0] == 0.2
    assert fused.uncertainty is not None and np.isnan(fused.uncertainty[0])
