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
