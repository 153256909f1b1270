"""The schedule over HTTP: upload a P6 file, link elements, report progress, read the
schedule and one activity as of a date, see an element's activities, the CSV report, and
the errors of bad requests."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from tests.schedule.mspdi_files import tower_mspdi
from tests.schedule.plan_files import SLAB_L1_GLOBAL_ID, tower_elements, tower_xer

from twinsync.config import Settings
from twinsync.service import TwinService
from twinsync.tokens import Role

from .conftest import bearer, signed_in

XER = {"content-type": "application/octet-stream"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An admin's client over a twin holding the tower's elements and no schedule yet."""
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"

    async def seed() -> None:
        service = TwinService.open(url)
        await service.import_project(tower_elements(), [], [])
        await service.aclose()

    asyncio.run(seed())
    with signed_in(Settings(store=url)) as test_client:
        yield test_client


def test_a_twin_without_a_schedule_says_how_to_import_one(client: TestClient) -> None:
    answer = client.get("/api/schedule")
    assert answer.status_code == 404 and "twinsync schedule import" in answer.json()["detail"]
    assert client.get("/api/elements/slab-1").json()["schedule"] is None


def test_a_schedule_uploaded_links_progresses_and_reads_as_of_a_date(
        client: TestClient) -> None:
    answer = client.post("/api/schedules?name=tower.xer", content=tower_xer(), headers=XER)
    assert answer.status_code == 201, answer.text
    assert answer.json()["version"] == 1 and answer.json()["activities"] == 4
    linked = client.put("/api/schedule/activities/A100/elements",
                        json={"elements": [SLAB_L1_GLOBAL_ID]})
    assert linked.status_code == 200 and linked.json()["elements"] == ["slab-1"]
    rule = client.post("/api/schedule/link-rules", json={"property": "ActivityCode"})
    assert rule.status_code == 201 and rule.json()["property"] == "ActivityCode"
    assert client.get("/api/schedule/link-rules").json() == [rule.json()]
    progress = client.post("/api/schedule/activities/A100/progress", json={
        "percent_complete": 25, "date": "2026-03-04 12:00", "actual_start": "2026-03-02 08:00",
        "actual_cost": 400})
    assert progress.status_code == 201, progress.text
    events = progress.json()["events"]
    assert [(e["kind"], e["source"]) for e in events] == [("activity_progress", "field"),
                                                         ("status_changed", "schedule")]

    schedule = client.get("/api/schedule", params={"as_of": "2026-03-04 12:00"}).json()
    assert schedule["as_of"] == "2026-03-04 12:00" and schedule["unit"] == "cost"
    assert schedule["earned_value"]["eac"] == 11200.0
    assert schedule["standing"] == {"ahead": 0, "on_track": 3, "behind": 1}
    first = schedule["activities"][0]
    assert (first["id"], first["early_finish"], first["total_float_hours"]) == (
        "A100", "2026-03-10 10:00", 0.0)
    assert first["variance"]["standing"] == "behind" and first["element_count"] == 1

    activity = client.get("/api/schedule/activities/A120",
                          params={"as_of": "2026-03-04 12:00"}).json()
    assert [e["id"] for e in activity["elements"]] == ["slab-2"]
    assert activity["elements"][0]["link"] == "rule 1"
    element = client.get("/api/elements/slab-1").json()
    assert element["status"] == "in_progress"
    assert [a["id"] for a in element["schedule"]["activities"]] == ["A100"]

    report = client.get("/api/schedule/report.csv", params={"as_of": "2026-03-04 12:00"})
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    by_code = {(r["level"], r["code"]): r for r in rows}
    assert by_code[("activity", "A100")]["cpi"] == "0.625"
    assert by_code[("wbs", "L1")]["eac"] == "4800"
    assert by_code[("project", "TOWER")]["tcpi"] == "1.0227"

    workbook = client.get("/api/schedule/report.xlsx", params={"as_of": "2026-03-04 12:00"})
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    sheet = list(book["Report"].values)
    columns = sheet[0]
    a100 = dict(zip(columns, sheet[1], strict=True))
    # the same figures as the CSV's, as numbers; text stays text
    assert (a100["code"], a100["cpi"], a100["eac"], a100["days"]) == ("A100", 0.625, 1600, 1.25)
    assert a100["standing"] == "behind" and a100["spi"] == 0.5
    assert dict(book["About"].values)["as of"] == "2026-03-04 12:00"


def test_a_field_status_conflicting_with_the_activity_shows_on_both(
        client: TestClient) -> None:
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    client.put("/api/schedule/activities/A100/elements", json={"elements": ["slab-1"]})
    client.post("/api/schedule/activities/A100/progress",
                json={"percent_complete": 100, "date": "2026-03-06 16:00"})
    assert client.get("/api/elements/slab-1").json()["status"] == "completed"
    # a person on site says the slab is still being worked on (now, after the report)
    client.patch("/api/elements/slab-1", json={"status": "in_progress"})
    element = client.get("/api/elements/slab-1").json()
    assert element["status"] == "in_progress"
    assert element["schedule"]["implied_status"] == "completed"
    assert element["schedule"]["conflict"] is True
    activity = client.get("/api/schedule/activities/A100").json()
    assert activity["progress"]["conflict"] is True
    assert activity["progress"]["reported"]["percent_complete"] == 100.0
    assert activity["progress"]["from_elements"]["state"] == "in_progress"


def test_a_status_sent_with_more_confidence_than_a_report_stands(client: TestClient) -> None:
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    client.put("/api/schedule/activities/A100/elements", json={"elements": ["slab-1"]})
    patched = client.patch("/api/elements/slab-1", json={
        "status": "in_progress", "status_confidence": 0.99, "time": "2026-03-05T09:00:00"})
    status_event = patched.json()["events"][0]
    assert (status_event["source"], status_event["data"]["confidence"]) == ("field", 0.99)
    reported = client.post("/api/schedule/activities/A100/progress",
                           json={"percent_complete": 100, "date": "2026-03-06 16:00"})
    assert [e["kind"] for e in reported.json()["events"]] == ["activity_progress"]
    element = client.get("/api/elements/slab-1").json()
    assert element["status"] == "in_progress" and element["schedule"]["conflict"] is True


def test_bad_requests_are_refused_with_their_reason(client: TestClient) -> None:
    assert client.post("/api/schedules", content=b"", headers=XER).json()["error"] == "no_file"
    broken = client.post("/api/schedules", content=b"%T\tTASK\r\n", headers=XER)
    assert broken.status_code == 422 and "line 1" in broken.json()["detail"]
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    assert client.get("/api/schedule/activities/Z9").status_code == 404
    assert client.get("/api/schedule", params={"as_of": "soon"}).json()["error"] == "bad_date"
    over = client.post("/api/schedule/activities/A100/progress",
                       json={"percent_complete": 120})
    assert over.status_code == 422
    claimed = client.post("/api/schedule/activities/A100/progress",
                          json={"percent_complete": 10, "source": "drone"})
    assert claimed.status_code == 403
    unknown = client.put("/api/schedule/activities/A100/elements",
                         json={"elements": ["no-such"]})
    assert unknown.status_code == 404
    assert client.post("/api/schedule/link-rules", json={"activities": "A*"}).status_code == 422


def test_a_drone_survey_moves_elements_and_shows_on_their_activity(
        client: TestClient) -> None:
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    client.post("/api/schedule/link-rules", json={"property": "ActivityCode"})
    survey = b'{"elements": [{"element": "slab-2", "percent_complete": 30}]}'
    answer = client.post("/api/schedule/surveys", params={"date": "2026-03-17 12:00"},
                         content=survey, headers={"content-type": "application/json"})
    assert answer.status_code == 201, answer.text
    assert [(e["kind"], e["source"]) for e in answer.json()["events"]] == [
        ("survey_recorded", "drone"), ("status_changed", "drone")]
    activity = client.get("/api/schedule/activities/A120",
                          params={"as_of": "2026-03-17 12:00"}).json()
    assert activity["progress"]["source"] == "elements:drone"
    assert activity["progress"]["percent_complete"] == 30.0
    as_text = client.post("/api/schedule/surveys", content=b"element,percent_complete\n",
                          headers={"content-type": "text/csv"})
    assert as_text.status_code == 415  # a file goes as application/octet-stream


def test_a_schedule_of_another_project_needs_force(client: TestClient) -> None:
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    refused = client.post("/api/schedules", content=tower_mspdi(), headers=XER)
    assert refused.status_code == 409 and "force" in refused.json()["detail"]
    forced = client.post("/api/schedules", params={"force": "1"}, content=tower_mspdi(),
                         headers=XER)
    assert forced.status_code == 201 and forced.json()["format"] == "mspdi"


def test_a_viewer_reads_the_schedule_but_reports_no_progress(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    with signed_in(Settings(store=url)) as admin:
        admin.post("/api/schedules", content=tower_xer(), headers=XER)
        viewer = bearer(url, Role.VIEWER)
        assert admin.get("/api/schedule", headers=viewer).status_code == 200
        refused = admin.post("/api/schedule/activities/A100/progress",
                             json={"percent_complete": 10}, headers=viewer)
        assert refused.status_code == 403


def test_the_elements_of_every_activity_and_their_standing_come_in_one_answer(
        client: TestClient) -> None:
    client.post("/api/schedules", content=tower_xer(), headers=XER)
    client.put("/api/schedule/activities/A100/elements",
               json={"elements": ["slab-1", "col-1"]})
    client.put("/api/schedule/activities/A110/elements", json={"elements": ["col-1"]})
    client.post("/api/schedule/link-rules", json={"property": "ActivityCode"})
    client.post("/api/schedule/activities/A100/progress",
                json={"percent_complete": 100, "date": "2026-03-05 16:00"})

    # Thursday 5 March: A100 done a day early; the columns not planned yet.
    early = client.get("/api/schedule/elements", params={"as_of": "2026-03-05 16:00"})
    assert early.status_code == 200, early.text
    states = early.json()
    assert states["as_of"] == "2026-03-05 16:00"
    assert states["activities"]["A100"] == {"elements": ["slab-1", "col-1"],
                                            "planned": "in_progress", "built": "complete",
                                            "standing": "ahead"}
    assert states["activities"]["A120"]["elements"] == ["slab-2"]
    assert states["activities"]["M900"]["elements"] == []
    assert states["elements"]["slab-1"] == {"activities": ["A100"], "planned": "in_progress",
                                            "built": "complete", "standing": "ahead"}
    # col-1 is built by A100 (complete) and A110 (not started): started, not complete.
    assert states["elements"]["col-1"]["activities"] == ["A100", "A110"]
    assert states["elements"]["col-1"]["built"] == "in_progress"
    assert set(states["elements"]) == {"slab-1", "col-1", "slab-2"}

    # Wednesday 11 March: A110 is half planned and not begun, so the column is behind.
    later = client.get("/api/schedule/elements", params={"as_of": "2026-03-11 12:00"}).json()
    assert later["activities"]["A110"]["planned"] == "in_progress"
    assert later["activities"]["A110"]["standing"] == "behind"
    assert later["elements"]["col-1"]["standing"] == "behind"
    assert later["elements"]["slab-1"] == {"activities": ["A100"], "planned": "complete",
                                           "built": "complete", "standing": "ahead"}
    assert later["elements"]["slab-2"]["planned"] == "not_started"
    assert client.get("/api/schedule/elements",
                      params={"as_of": "soon"}).json()["error"] == "bad_date"
