"""The schedule in the running twin, on SQLite and PostgreSQL: imported versions, links,
progress and observed statuses survive a restart; re-importing keeps what the twin holds;
a failed commit leaves the schedule and the elements as they were; a malformed file
changes nothing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from tests.schedule.ifc_files import COLUMN, SLAB, tower_ifc
from tests.schedule.mspdi_files import tower_mspdi
from tests.schedule.plan_files import SLAB_L1_GLOBAL_ID, tower_elements, tower_xer

from twinsync.errors import Conflict, InvalidInput, ScheduleImportError, StoreError
from twinsync.model import Element, Source
from twinsync.schedule.ifc_schedule import CALENDAR_WARNING
from twinsync.service import TwinService
from twinsync.store.audit import AuditQuery

from .faults import FailingStore

WEDNESDAY_NOON = datetime(2026, 3, 4, 12)


async def test_the_schedule_and_what_the_twin_added_to_it_survive_a_restart(
        store_url: str) -> None:
    service = TwinService.open(store_url)
    try:
        await service.import_project(tower_elements(), [], [])
        report = await service.schedules.import_bytes(tower_xer(), name="tower.xer")
        assert (report["version"], report["activities"], report["project"]) == (1, 4, "TOWER")
        await service.schedules.set_links("A100", [SLAB_L1_GLOBAL_ID])
        await service.schedules.add_rule({"activities": "A110", "ifc_class": "IfcColumn",
                                          "storey": "L1"})
        events = await service.schedules.report_progress(
            "A100", percent_complete=25, date=WEDNESDAY_NOON, actual_cost=400)
        assert [e["kind"] for e in events] == ["activity_progress", "status_changed"]
        # seen complete on Tuesday 09:00 (the schedule's dates are this machine's local time)
        await service.update_element("col-1", status="completed", source="field",
                                     time=datetime(2026, 3, 10, 9).timestamp())
    finally:
        await service.aclose()

    reopened = TwinService.open(store_url)
    try:
        assert reopened.twin.elements["slab-1"].status.value == "in_progress"
        activity = await reopened.schedules.activity("A100", WEDNESDAY_NOON)
        assert activity["progress"]["percent_complete"] == 25.0
        assert activity["earned_value"]["ac"] == 400.0
        assert [e["id"] for e in activity["elements"]] == ["slab-1"]
        element = await reopened.schedules.element("col-1", datetime(2026, 3, 10, 12))
        assert element is not None and element["activities"][0]["id"] == "A110"
        assert element["observed"]["status"] == "completed"
        # the field's status of col-1 is half of A110's elements
        columns = await reopened.schedules.activity("A110", datetime(2026, 3, 10, 12))
        assert columns["progress"]["percent_complete"] == 50.0
        assert columns["progress"]["source"] == "elements:field"
        report = await reopened.schedules.import_bytes(tower_xer(2), name="tower-2.xer")
        assert report["version"] == 2 and report["kept"] == {"progress": 1, "links": 1,
                                                             "rules": 1}
        again = await reopened.schedules.activity("A100", WEDNESDAY_NOON)
        assert again["planned_duration_hours"] == 48.0
        assert again["progress"]["percent_complete"] == 25.0
        kinds = [e.kind for e in reopened.store.recent_events(50)]
        assert kinds.count("schedule_imported") == 2 and "activity_linked" in kinds
        operations = {e.operation for e in reopened.store.audit(AuditQuery())}
        assert {"import_schedule", "link_activity", "add_link_rule",
                "report_progress"} <= operations
    finally:
        await reopened.aclose()


async def test_a_failed_commit_leaves_the_schedule_and_elements_as_they_were(
        tmp_path: Path) -> None:
    store = FailingStore(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    service = TwinService(store)
    try:
        await service.import_project(tower_elements(), [], [])
        await service.schedules.import_bytes(tower_xer(), name="tower.xer")
        await service.schedules.set_links("A100", ["slab-1"])
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.schedules.report_progress("A100", percent_complete=50,
                                                    date=WEDNESDAY_NOON)
        assert service.plan.progress == {}
        assert service.twin.elements["slab-1"].status.value == "planned"
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.schedules.import_bytes(tower_xer(2), name="tower-2.xer")
        assert service.plan.version is not None and service.plan.version.number == 1
        assert "A130" not in service.plan.activities
        # the same request again is accepted whole
        await service.schedules.report_progress("A100", percent_complete=50,
                                                date=WEDNESDAY_NOON, source=Source.FIELD)
        assert service.twin.elements["slab-1"].status.value == "in_progress"
    finally:
        await service.aclose()


async def test_a_malformed_file_is_refused_with_its_line_and_changes_nothing(
        tmp_path: Path) -> None:
    service = TwinService.open(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    try:
        await service.schedules.import_bytes(tower_xer(), name="tower.xer")
        broken = tower_xer(2).replace(b"\t48\t48\t", b"\tforty\t48\t")
        with pytest.raises(ScheduleImportError, match=r"line \d+: target_drtn_hr_cnt"):
            await service.schedules.import_bytes(broken, name="broken.xer")
        assert service.plan.version is not None and service.plan.version.number == 1
        # A120 → A100 too: A100 → A110 → A120 → A100 is a loop, which no view could schedule
        looped = tower_xer(2).replace(b"%R\t4\t5\t3\tPR_FS\t0",
                                      b"%R\t4\t5\t3\tPR_FS\t0\r\n%R\t9\t1\t3\tPR_FS\t0")
        with pytest.raises(InvalidInput, match="loop") as refused:
            await service.schedules.import_bytes(looped, name="looped.xer")
        assert refused.value.reason == "loop"
        assert [row[0] for row in service.store.load_plan()] == ["file", "version"]
    finally:
        await service.aclose()


async def test_an_ms_project_file_is_a_version_like_any_and_reloads_as_one(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    service = TwinService.open(url)
    try:
        await service.schedules.import_bytes(tower_xer(), name="tower.xer")
        # another project (MS Project's file is "Tower.xml", P6's "TOWER"): only by force
        with pytest.raises(Conflict, match=r"project 'TOWER'; this file is project 'Tower\.xml'"):
            await service.schedules.import_bytes(tower_mspdi(), name="tower.xml")
        assert service.plan.version is not None and service.plan.version.number == 1
        report = await service.schedules.import_bytes(tower_mspdi(), name="tower.xml",
                                                      force=True)
        assert (report["version"], report["format"], report["activities"]) == (2, "mspdi", 4)
    finally:
        await service.aclose()
    reopened = TwinService.open(url)
    try:
        assert reopened.plan.version is not None and reopened.plan.version.file_format == (
            "mspdi")
        assert list(reopened.plan.activities) == ["2", "3", "5", "6"]
        overview = await reopened.schedules.overview(datetime(2026, 3, 3, 12))
        assert overview["earned_value"]["pv"] == 750.0  # 12 h of Slab L1's 16 h, of 1000
    finally:
        await reopened.aclose()


async def test_an_ifc_work_schedule_links_its_tasks_to_the_elements_it_names(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    service = TwinService.open(url)
    try:
        await service.import_project([Element("slab", "IfcSlab", global_id=SLAB),
                                      Element(COLUMN, "IfcColumn")], [], [])
        report = await service.schedules.import_bytes(tower_ifc(), name="tower-4d.ifc")
        assert (report["format"], report["project"], report["activities"]) == ("ifc", "WS-1",
                                                                                3)
        assert report["warnings"] == [CALENDAR_WARNING]
    finally:
        await service.aclose()
    reopened = TwinService.open(url)
    try:
        slab = await reopened.schedules.activity("A100", datetime(2026, 3, 2, 12))
        assert [(e["id"], e["link"]) for e in slab["elements"]] == [("slab", "file")]
        assert slab["progress"]["percent_complete"] == 50.0  # the file's Completion
        column = await reopened.schedules.element(COLUMN, datetime(2026, 3, 2, 12))
        assert column is not None and [a["id"] for a in column["activities"]] == ["A110"]
    finally:
        await reopened.aclose()
