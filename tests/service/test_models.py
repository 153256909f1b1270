"""Re-importing a BIM model through the service: a wrong file is refused before its file is
written, a dry run changes nothing, a forced import is audited, and a sensor whose element
a revision archives keeps its readings, feeds nothing, and feeds its element again once a
later revision restores it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from tests.bim.models import unrelated_model

from twinsync.bim import generate_building
from twinsync.errors import ImportRefused
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.store.audit import Actor, AuditQuery

#: A sensor cast into the upper storey's slab, which the one-storey revision archives.
SENSOR = "L01-SLAB-T1"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The building (two storeys), the same building cut to its ground storey (72 of 158
    elements leave, 46 %), and a four-element model of another project."""
    folder = tmp_path_factory.mktemp("service-models")
    return {
        "building": generate_building(folder / "b.ifc", storeys=2, bays_x=4,
                                      bays_y=2).path.read_bytes(),
        "one_storey": generate_building(folder / "l00.ifc", storeys=1, bays_x=4,
                                        bays_y=2).path.read_bytes(),
        "unrelated": unrelated_model(folder / "shed.ifc").read_bytes(),
    }


def url_in(folder: Path) -> str:
    return f"sqlite:///{folder / 'twin.sqlite'}"


def reading(value: float, at: float) -> IncomingBatch:
    return IncomingBatch([RawReading(SENSOR, value, at)], "test", time.time())


async def test_a_sensor_on_an_archived_element_keeps_its_readings_unbound_until_restored(
        tmp_path: Path, files: dict[str, bytes]) -> None:
    now = time.time()
    async with TwinService.open(url_in(tmp_path)) as service:
        await service.models.import_bytes(files["building"])
        slab = service.twin.bindings[SENSOR].element_id
        await service.ingest(reading(20.0, now - 30))
        fused = service.fused_value(slab, "core_temperature")
        assert fused is not None and fused["value"] == 20.0

        report = await service.models.import_bytes(files["one_storey"])
        assert SENSOR in report["sensors_unbound"] and slab in report["removed"]
        result = await service.ingest(reading(25.0, now - 20))
        assert result.accepted == 1 and result.rejected == []
        snapshot = service.sensor_snapshot(SENSOR)
        assert (snapshot["binding_state"], snapshot["value"]) == ("element_archived", 25.0)
        assert service.fused_value(slab, "core_temperature") is None
        element = service.element_snapshot(slab)
        assert element["archived"] and "core_temperature" not in element["properties"]

    async with TwinService.open(url_in(tmp_path)) as service:  # and after a restart
        history = service.store.history(service.sensor_row(SENSOR), now - 60, now + 10)
        assert history.value.tolist() == [20.0, 25.0]  # both kept, none dropped
        assert service.sensor_snapshot(SENSOR)["binding_state"] == "element_archived"
        assert service.fused_value(slab, "core_temperature") is None

        report = await service.models.import_bytes(files["building"])
        assert SENSOR in report["sensors_rebound"] and slab in report["restored"]
        assert service.sensor_snapshot(SENSOR)["binding_state"] == "bound"
        await service.ingest(reading(26.0, now - 10))
        fused = service.fused_value(slab, "core_temperature")
        assert fused is not None and (fused["value"], fused["sensors"]) == (26.0, [SENSOR])


async def test_a_refused_import_and_a_dry_run_change_nothing_and_write_no_file(
        tmp_path: Path, files: dict[str, bytes]) -> None:
    async with TwinService.open(url_in(tmp_path)) as service:
        first = await service.models.import_bytes(files["building"])
        folder = service.models.folder
        kept = sorted(folder.iterdir())
        events = service.store.recent_events(1)[0].seq
        with pytest.raises(ImportRefused) as refused:
            await service.models.import_bytes(files["unrelated"])
        assert [r["reason"] for r in refused.value.refusals] == ["other_project",
                                                                  "archives_too_much"]
        plan = await service.models.plan_bytes(files["unrelated"], name="shed.ifc")
        assert plan["dry_run"] is True and plan["name"] == "shed.ifc"
        assert plan["counts"]["archived"] == 158 and plan["counts"]["added"] == 4
        # The ids are capped (DRY_RUN_IDS), the counts are not.
        assert len(plan["removed"]) == 100 and len(plan["added"]) == 4
        assert [r["reason"] for r in plan["refusals"]] == ["other_project", "archives_too_much"]
        assert sorted(folder.iterdir()) == kept
        assert service.store.recent_events(1)[0].seq == events
        assert not any(e.archived for e in service.twin.elements.values())
        current = service.models.current()
        assert current is not None and current["revision"] == first["revision"]
        assert current["project_id"] == first["project_id"]


async def test_a_forced_import_is_audited_with_what_it_overrode_and_moves_revisions(
        tmp_path: Path, files: dict[str, bytes]) -> None:
    async with TwinService.open(url_in(tmp_path)) as service:
        await service.models.import_bytes(files["building"])
        slab = service.twin.bindings[SENSOR].element_id
        element_revision = service.revisions.element(slab)
        binding_revision = service.revisions.binding(SENSOR)
        actor = Actor("site admin", "admin", "t-1")
        report = await service.models.import_bytes(files["unrelated"], force=True, actor=actor)
        assert report["forced"] == ["other_project", "archives_too_much"]
        entry = service.store.audit(AuditQuery(newest_first=True, limit=1))[0]
        assert (entry.operation, entry.actor) == ("import_model", actor)
        assert entry.after["forced"] == ["other_project", "archives_too_much"]
        assert entry.after["refusals"][1]["archived"] == 158
        assert entry.after["project_id"] == report["project_id"]
        assert service.revisions.element(slab) == element_revision + 1
        assert service.revisions.binding(SENSOR) == binding_revision + 1
        current = service.models.current()
        assert current is not None and current["project_id"] == report["project_id"]
        assert service.sensor_snapshot(SENSOR)["binding_state"] == "element_archived"


async def test_an_alarm_of_a_sensor_on_an_archived_element_names_no_element(
        tmp_path: Path, files: dict[str, bytes]) -> None:
    class Clock:
        now = time.time()

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    async with TwinService.open(url_in(tmp_path), clock=clock) as service:
        await service.models.import_bytes(files["building"])
        interval = service.twin.sensors[SENSOR].expected_interval
        start = clock.now
        readings = [RawReading(SENSOR, 20.0 + (i % 3) * 0.1, start - interval * (10 - i), None,
                               i) for i in range(11)]
        await service.ingest(IncomingBatch(readings, "gw", start))
        await service.models.import_bytes(files["one_storey"])
        clock.now = start + interval * 20  # silent long enough to be offline
        await service.watch.check()
        alarm = service.alarms.active[f"health:{SENSOR}"]
        assert alarm.element_id is None
