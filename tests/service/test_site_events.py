"""Declared site events in the service: a pour declared on a slab keeps the health monitor
from calling a slab sensor drifting while its peers part from it, through the normal
ingest path; events are audited, survive a restart on both stores, and follow the
bindings of the elements they name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from twinsync.errors import InvalidInput, NotFound, StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.store.audit import Actor, AuditQuery

from .faults import FailingStore

STEP = 900.0
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01
SENSORS = ["slab-t1", "slab-t2", "slab-t3"]
#: The pour: after three days of learning the sensors, for a day and a half.
POUR = round(3 * DAY / STEP)
HEAT = round(1.5 * DAY / STEP)
SLOTS = round(6 * DAY / STEP)
SITE = Actor("tablet-3", "operator", "3f2a9c1b07de")


def slab_readings() -> np.ndarray:
    """Three loggers of one slab's core temperature every 15 minutes for six days; from
    the pour on, slab-t1 (nearest the heat) rises 0.8 degC above the others for a day and
    a half and comes back, as a slab's sensors at another depth do while it cures."""
    rng = np.random.default_rng(5)
    hours = np.arange(SLOTS) * STEP / 3600
    truth = 20 + 2 * np.sin(2 * np.pi * hours / 24) + 0.5 * np.sin(2 * np.pi * hours / 80)
    values = truth + rng.normal(0, 0.05, (3, SLOTS)) + rng.normal(0, 0.2, (3, 1))
    values[0, POUR : POUR + HEAT] += 0.8 * np.sin(np.pi * np.arange(HEAT) / HEAT)
    rounded: np.ndarray = np.round(values, 2)
    return rounded


async def open_slab(url: str) -> TwinService:
    service = TwinService.open(url)
    if not service.twin.sensors:
        await service.import_project(
            [Element("slab-1", "IfcSlab"), Element("col-1", "IfcColumn")],
            [Sensor(s, "slab_temperature", "degC", STEP, resolution=0.01) for s in SENSORS],
            [Binding(s, "slab-1", "core_temperature") for s in SENSORS],
        )
    return service


async def ingest(service: TwinService, values: np.ndarray, slots: range) -> None:
    """One batch per slot, as a gateway sends them (the service's normal ingest path)."""
    for k in slots:
        at = START + k * STEP
        await service.ingest(
            IncomingBatch(
                [RawReading(s, float(values[i, k]), at + 7 * i) for i, s in enumerate(SENSORS)],
                "test",
                at + 30.0,
            )
        )


def drift_raised(service: TwinService) -> list[str]:
    return [
        e.data["sensor_id"]
        for e in service.store.events(kind="health_changed", limit=10_000)
        if e.data["state"] == "drift"
    ]


async def test_a_pour_declared_on_the_slab_keeps_its_sensor_from_being_called_drifting(
    tmp_path: Path,
) -> None:
    values = slab_readings()
    undeclared = await open_slab(f"sqlite:///{tmp_path / 'undeclared.sqlite'}")
    declared = await open_slab(f"sqlite:///{tmp_path / 'declared.sqlite'}")
    try:
        pour = await declared.site_events.declare(
            {"kind": "pour", "start": START + POUR * STEP - STEP, "element_ids": ["slab-1"]},
            actor=SITE,
        )
        assert pour["end"] - pour["start"] == 72 * 3600  # a pour's default length
        for service in (undeclared, declared):
            await ingest(service, values, range(SLOTS))
        assert "slab-t1" in drift_raised(undeclared)
        assert drift_raised(declared) == []
    finally:
        await undeclared.aclose()
        await declared.aclose()


async def test_events_are_audited_and_survive_a_restart(store_url: str) -> None:
    service = await open_slab(store_url)
    try:
        pour = await service.site_events.declare(
            {
                "kind": "pour",
                "start": "2026-01-04T00:00:00Z",
                "element_ids": ["slab-1"],
                "note": "bay 2",
            },
            actor=SITE,
        )
        heating = await service.site_events.declare(
            {
                "kind": "heating",
                "start": START,
                "end": START + DAY,
                "sensor_ids": ["slab-t2", "slab-t3"],
            },
            actor=SITE,
        )
        withdrawn = await service.site_events.withdraw(heating["id"], actor=SITE)
    finally:
        await service.aclose()
    assert withdrawn["withdrawn_at"] is not None
    reopened = await open_slab(store_url)
    try:
        assert await reopened.site_events.matching() == [pour]
        assert await reopened.site_events.matching(withdrawn=True) == [withdrawn, pour]
        entries = reopened.store.audit(AuditQuery())
        audited = [(e.operation, e.target, e.actor) for e in entries[-3:]]
        assert audited == [
            ("declare_event", f"site_event:{pour['id']}", SITE),
            ("declare_event", f"site_event:{heating['id']}", SITE),
            ("withdraw_event", f"site_event:{heating['id']}", SITE),
        ]
        assert entries[-3].after == pour and entries[-3].element_id == "slab-1"
        assert entries[-1].before == {"withdrawn_at": None}
        assert entries[-1].after == {"withdrawn_at": withdrawn["withdrawn_at"]}
        # Health has the spans from start-up on: the slab's sensors, within the pour.
        at = pour["start"] + 60
        await reopened.ingest(
            IncomingBatch([RawReading(s, 20.0, at) for s in SENSORS], "test", at + 30)
        )
        rows = [reopened.pipeline.table.index[s] for s in SENSORS]
        assert reopened.health.table.event_start[rows].tolist() == [pour["start"]] * 3
    finally:
        await reopened.aclose()


async def test_a_refused_declaration_writes_nothing(tmp_path: Path) -> None:
    service = await open_slab(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        before = service.store.audit(AuditQuery())
        for body, reason in [
            ({"kind": "pour", "start": START, "element_ids": ["no-such-slab"]}, "unknown_element"),
            ({"kind": "pour", "start": START, "sensor_ids": ["no-such-sensor"]}, "unknown_sensor"),
            ({"kind": "heating", "start": START, "element_ids": ["slab-1"]}, "end_required"),
            (
                {"kind": "pour", "start": START, "end": START - 1, "element_ids": ["slab-1"]},
                "bad_span",
            ),
            (
                {
                    "kind": "pour",
                    "start": START,
                    "end": START + 91 * DAY,
                    "element_ids": ["slab-1"],
                },
                "span_too_long",
            ),
            ({"kind": "pour", "start": START}, "no_target"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                await service.site_events.declare(body, actor=SITE)
            assert refused.value.reason == reason, body
        with pytest.raises(NotFound):
            await service.site_events.withdraw("no-such-event", actor=SITE)
        assert service.store.load_site_events() == []
        assert service.store.audit(AuditQuery()) == before
    finally:
        await service.aclose()


async def test_the_monitor_follows_the_sensors_bound_to_an_event_element(tmp_path: Path) -> None:
    service = await open_slab(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        start = START + DAY
        await service.site_events.declare(
            {"kind": "load step", "start": start, "element_ids": ["col-1"]}, actor=SITE
        )
        await service.add_sensor(Sensor("col-1-strain", "strain", "microstrain", STEP))
        await service.bind_sensor(Binding("col-1-strain", "col-1", "strain"))
        await service.ingest(
            IncomingBatch(
                [RawReading(s, 20.0, start + 60) for s in SENSORS]
                + [RawReading("col-1-strain", 5.0, start + 60)],
                "test",
                start + 90,
            )
        )
        table = service.health.table
        row = service.pipeline.table.index["col-1-strain"]
        assert (table.event_start[row], table.event_end[row]) == (start, start + DAY)
        # The slab's sensors are not concerned by the column's load step.
        assert np.isnan(table.event_start[service.pipeline.table.index["slab-t1"]])
        await service.unbind_sensor("col-1-strain")
        await service.ingest(
            IncomingBatch([RawReading("col-1-strain", 5.0, start + 960)], "test", start + 990)
        )
        assert np.isnan(table.event_start[row])
    finally:
        await service.aclose()


async def test_a_failed_commit_keeps_nothing_and_the_same_declaration_is_then_accepted(
    tmp_path: Path,
) -> None:
    store = FailingStore(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    service = TwinService(store)
    await service.import_project(
        [Element("slab-1", "IfcSlab")],
        [Sensor(s, "slab_temperature", "degC", STEP) for s in SENSORS],
        [Binding(s, "slab-1", "core_temperature") for s in SENSORS],
    )
    try:
        pour = {"kind": "pour", "start": START, "element_ids": ["slab-1"]}
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.site_events.declare(pour, actor=SITE)
        assert service.site_events.events == {} and store.load_site_events() == []
        kept = await service.site_events.declare(pour, actor=SITE)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.site_events.withdraw(kept["id"], actor=SITE)
        assert await service.site_events.matching() == [kept]
        assert store.load_site_events()[0].live
        operations = [e.operation for e in store.audit(AuditQuery())]
        assert operations == ["import_project", "declare_event"]
    finally:
        await service.aclose()
