"""Progress from sensors, end to end: two slabs with bound temperature sensors, readings
ingested through the service's reading path over simulated days, the slab in cold weather
reaching its strength days after the warm one, a failing sensor left out, the element's
status and its activity's progress following with source ``sensor``, and a field report
that disagrees shown as a conflict; all of it audited and still there after a restart,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from twinsync.errors import InvalidInput, NotFound
from twinsync.model import Binding, Element, PropertyValue, Sensor, Source
from twinsync.pipeline import IncomingBatch
from twinsync.pipeline.batch import RawReading
from twinsync.service import TwinService
from twinsync.store.audit import AuditQuery

POUR = datetime(2026, 3, 2, 8, 0)
HOUR = 3600.0
STEP = 1800.0  # a reading every 30 minutes
SCHEDULE = b"""# project=SITE
# data_date=2026-03-02 08:00
code,name,duration_hours,planned_start
A100,Slab L1 pour and cure,40,2026-03-02 08:00
A200,Slab L2 pour and cure,40,2026-03-02 08:00
"""
#: 20 MPa at 10**(40/12) = 2154.4 °C·h over a datum of -10 °C.
MIX = {
    "name": "C30-slab",
    "curve": {"form": "logarithmic", "a": -20.0, "b": 12.0},
    "required_strength": 20.0,
    "targets": {"striking": 15.0},
    "ifc_class": "IfcSlab",
    "datum_temperature": -10.0,
    "temperature_properties": [
        "core_temperature",
        "edge_temperature",
        "top_temperature",
        "bottom_temperature",
    ],
}


SENSORS = ("cold-core", "cold-edge", "cold-broken", "cold-stuck", "cold-air", "warm-core")


def temperature(sensor_id: str, at: float, rng: np.random.Generator) -> float:
    """Each sensor's reading: a daily swing of ±1.5 °C (and a little noise, as a real
    logger has) around its mean. Two of the cold slab's sensors fail: one reads far out
    of any range from the start, one sticks at a value after its first day (health finds
    it stuck and lowers its quality)."""
    if sensor_id == "cold-broken":
        return 2500.0
    if sensor_id == "cold-stuck" and at - POUR.timestamp() > 24 * HOUR:
        return 7.25
    mean = {
        "cold-core": 8.0,
        "cold-edge": 5.0,
        "cold-stuck": 8.2,
        "cold-air": -2.0,
        "warm-core": 20.0,
    }
    swing = 1.5 * math.sin(2 * math.pi * at / 86_400.0)
    return mean[sensor_id] + swing + float(rng.normal(0, 0.05))


async def open_site(url: str, now: list[float]) -> TwinService:
    return TwinService.open(url, clock=lambda: now[0])


async def build(svc: TwinService) -> None:
    elements = [
        Element("slab-cold", "IfcSlab", "Slab L1 (north, unheated)"),
        Element(
            "slab-warm",
            "IfcSlab",
            "Slab L2 (heated enclosure)",
            properties={"poured_at": PropertyValue("2026-03-02 08:00")},
        ),
    ]
    sensors = [Sensor(s, "slab_temperature", "degC", expected_interval=STEP) for s in SENSORS]
    bindings = [
        Binding("cold-core", "slab-cold", "core_temperature"),
        Binding("cold-edge", "slab-cold", "edge_temperature"),
        Binding("cold-broken", "slab-cold", "top_temperature"),
        Binding("cold-stuck", "slab-cold", "bottom_temperature"),
        # the air beside the slab: a temperature, but not the concrete's
        Binding("cold-air", "slab-cold", "air_temperature"),
        Binding("warm-core", "slab-warm", "core_temperature"),
    ]
    await svc.import_project(elements, sensors, bindings)
    await svc.schedules.import_bytes(SCHEDULE, name="site.csv")
    await svc.schedules.set_links("A100", ["slab-cold"])
    await svc.schedules.set_links("A200", ["slab-warm"])
    await svc.curing.add_mix(MIX)
    # the slab L1 pour starts on site: its activity's actual start is the pour
    await svc.schedules.report_progress("A100", percent_complete=10, date=POUR)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'twin.sqlite'}"


async def test_slabs_reach_strength_from_their_sensors_and_their_activities_follow(
    store_url: str,
) -> None:
    url = store_url  # SQLite, and PostgreSQL when its server runs
    start = POUR.timestamp()
    now = [start]
    svc = await open_site(url, now)
    rng = np.random.default_rng(7)
    sent: dict[str, list[tuple[float, float]]] = {}
    recorded: dict[str, float] = {}
    try:
        await build(svc)
        steps = int(8 * 24 * HOUR / STEP)
        for step in range(1, steps + 1):
            at = start + step * STEP
            now[0] = at + 5.0
            readings = []
            for sensor_id in SENSORS:
                value = temperature(sensor_id, at, rng)
                sent.setdefault(sensor_id, []).append((at, value))
                readings.append(RawReading(sensor_id, value, at, None, step))
            result = await svc.ingest(IncomingBatch(readings, "logger", now[0], "http"))
            assert result.accepted == len(SENSORS)
            if step % 12 == 0:  # a round every six hours, as the timer would run it
                for event in await svc.curing.check():
                    recorded[event["element_id"]] = now[0]

        # cold weather makes it slower: 2154 °C·h at ~30 °C·h an hour is three days, at
        # ~15 °C·h an hour six (the edge, the colder of the slab's two good sensors)
        assert recorded["slab-warm"] - start == pytest.approx(72 * HOUR, abs=6 * HOUR)
        assert recorded["slab-cold"] - start == pytest.approx(144 * HOUR, abs=6 * HOUR)

        view = await svc.curing.assess("slab-cold")
        assert view["pour_source"] == "activity:A100" and view["poured_at"] == start
        assert view["governing_sensor"] == "cold-edge" and view["reached"] is True
        roles = {s["sensor_id"]: s for s in view["sensors"]}
        assert "cold-air" not in roles  # the mix names the concrete's properties
        assert roles["cold-broken"]["role"] == "excluded"
        assert roles["cold-broken"]["not_believed"] == len(sent["cold-broken"])
        # the stuck one counted until health found it stuck, then stopped counting: it
        # no longer governs, and the view says until when it was believed
        stuck = roles["cold-stuck"]
        assert stuck["role"] == "stopped" and stuck["low_quality"] > 100
        assert start + 24 * HOUR < stuck["until"] < start + 72 * HOUR
        assert roles["cold-core"]["role"] == "reporting"
        # the maturity is the sum of what was sent, worked independently of the module
        edge = np.array(sent["cold-edge"])
        # (the first reading is half an hour after the pour, at its own temperature)
        temps = np.concatenate(([edge[0, 1]], edge[:, 1]))
        expected = float(np.sum((temps[1:] + temps[:-1]) / 2 + 10.0) * 0.5)
        assert view["maturity"] == pytest.approx(expected, abs=1e-3)
        assert view["maturity"] == view["maturity_bridged"]  # no gap in the edge's readings
        assert view["strength"] == pytest.approx(-20 + 12 * math.log10(expected), abs=1e-3)
        assert view["targets"]["striking"]["reached"] is True
        assert 0.0 < view["confidence"] <= 0.85

        element = await svc.view(svc.element_snapshot, "slab-cold")
        assert element["status"] == "completed"
        events = svc.store.events(element_id="slab-cold", limit=1000)
        kinds = [(e.kind, e.source) for e in events]
        assert ("strength_reached", "sensor") in kinds and ("status_changed", "sensor") in kinds
        changed = next(e for e in events if e.kind == "status_changed" and e.source == "sensor")
        assert changed.data["confidence"] == view["confidence"]
        audit = svc.store.audit(AuditQuery(element_id="slab-cold"))
        assert {"record_strength", "update_element"} <= {a.operation for a in audit}

        # the activity follows the sensors; the field's report of 10 % disagrees, and the
        # view shows both rather than picking one silently
        a100 = await svc.schedules.activity("A100", POUR.replace(day=9))
        progress = a100["progress"]
        assert progress["from_elements"]["source"] == "elements:sensor"
        assert progress["from_elements"]["percent_complete"] == 100.0
        assert progress["reported"]["source"] == "field"
        assert progress["conflict"] is True
        a200 = await svc.schedules.activity("A200", POUR.replace(day=9))
        assert a200["progress"]["state"] == "complete" and not a200["progress"]["conflict"]
        seen = await svc.schedules.element("slab-cold", POUR.replace(day=9))
        assert seen is not None and seen["observed"]["source"] == "sensor"
        assert seen["implied_status"] == "in_progress" and seen["conflict"] is True

        # a round later records nothing again
        assert await svc.curing.check() == []
    finally:
        await svc.aclose()

    # after a restart: the mix, the sensors' observation and the element's status stay
    svc = await open_site(url, now)
    try:
        assert [m["name"] for m in await svc.curing.mixes()] == ["C30-slab"]
        again = await svc.curing.assess("slab-cold")
        assert again["recorded"] is True and again["maturity"] == view["maturity"]
        assert await svc.curing.check() == []
    finally:
        await svc.aclose()


async def test_without_a_pour_or_a_mix_the_view_says_why(url: str) -> None:
    now = [POUR.timestamp()]
    svc = await open_site(url, now)
    try:
        await svc.import_project(
            [Element("slab-1", "IfcSlab"), Element("wall-1", "IfcWall")],
            [Sensor("t1", "slab_temperature", "degC")],
            [Binding("t1", "slab-1", "core_temperature")],
        )
        with pytest.raises(NotFound, match="no concrete mix"):
            await svc.curing.assess("slab-1")
        await svc.curing.add_mix(MIX)
        view = await svc.curing.assess("slab-1")
        assert view["estimate"] is None and "pour is not known" in view["detail"]
        with pytest.raises(NotFound, match="no concrete mix"):
            await svc.curing.assess("wall-1")
        with pytest.raises(InvalidInput, match="required_strength"):
            await svc.curing.add_mix({**MIX, "required_strength": -1})
        assert [m["required_strength"] for m in await svc.curing.mixes()] == [20.0]
        # a declaration that is not a date is said in the view, and a round goes on
        await svc.update_element("slab-1", properties={"poured_at": "after lunch"})
        view = await svc.curing.assess("slab-1")
        assert view["estimate"] is None and "after lunch" in view["detail"]
        assert await svc.curing.check() == []
        await svc.update_element("slab-1", properties={"poured_at": None})
        await svc.update_element("slab-1", status="in_progress", source=Source.FIELD.value)
        view = await svc.curing.assess("slab-1")
        assert view["pour_source"] == "element:field" and view["governing_sensor"] is None
    finally:
        await svc.aclose()
