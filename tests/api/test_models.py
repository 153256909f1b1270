"""BIM models over HTTP: upload a revision, re-import the next, refuse a broken file whole,
serve the geometry with GlobalIds as node names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.bim.models import unrelated_model

from twinsync.bim import generate_building, generate_shapes, glb_node_names
from twinsync.config import Settings
from twinsync.service import models as service_models

from .conftest import signed_in


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[TestClient]:
    with signed_in(Settings(store=f"sqlite:///{tmp_path / 'twin.sqlite'}")) as c:
        yield c


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("models")
    return [generate_building(folder / f"r{n}.ifc", storeys=2, bays_x=2, bays_y=2,
                              revision=n).path.read_bytes() for n in (0, 1)]


def test_a_twin_without_a_model_says_so(empty: TestClient) -> None:
    assert empty.get("/api/model").status_code == 404
    assert empty.get("/api/model.glb").json()["error"] == "not_found"


def test_uploading_a_model_fills_the_twin_and_serves_its_geometry(
        empty: TestClient, revisions: list[bytes], tmp_path: Path) -> None:
    answer = empty.post("/api/models", params={"name": "tower.ifc"}, content=revisions[0],
                        headers={"content-type": "application/octet-stream"})
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["schema"] == "IFC4" and len(report["added"]) > 30
    assert report["sensors_added"]
    model = empty.get("/api/model").json()
    assert model["revision"] == report["revision"] and model["name"] == "tower.ifc"
    walls = empty.get("/api/elements", params={"type": "IfcWall"}).json()["elements"]
    assert walls and all(w["global_id"] == w["id"] for w in walls)

    glb = empty.get("/api/model.glb")
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"
    (tmp_path / "m.glb").write_bytes(glb.content)
    assert {w["id"] for w in walls} <= set(glb_node_names(tmp_path / "m.glb"))


def test_the_model_says_which_kernel_drew_each_element_once_its_geometry_is_exported(
        empty: TestClient, revisions: list[bytes]) -> None:
    empty.post("/api/models", content=revisions[0])
    assert empty.get("/api/model").json()["geometry"] == {"exported": False,
                                                          "kernel": "manifold"}
    assert empty.get("/api/model.glb").status_code == 200
    geometry = empty.get("/api/model").json()["geometry"]
    assert geometry["exported"] is True and geometry["missing"] == []
    assert geometry["by_kernel"] == {"manifold": geometry["elements"]}


def test_a_kernel_crash_on_one_element_leaves_the_server_up_and_the_element_reported(
        empty: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = generate_shapes(tmp_path / "shapes.ifc",
                            cases=["mapped_surface_model", "faceted_brep", "clipped_wall"])
    assert empty.post("/api/models", content=model.path.read_bytes()).status_code == 201
    victim = model.ids["faceted_brep"]
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"segv:{victim}")
    glb = empty.get("/api/model.glb")
    assert glb.status_code == 200
    (tmp_path / "m.glb").write_bytes(glb.content)
    assert set(glb_node_names(tmp_path / "m.glb")) == set(model.ids.values()) - {victim}
    geometry = empty.get("/api/model").json()["geometry"]
    assert [(m["id"], m["reason"]) for m in geometry["missing"]] == [(victim, "crashed")]
    assert geometry["by_kernel"] == {"opencascade": 2}  # a surface model, a clipped wall
    assert empty.get("/api/model.glb").content == glb.content  # cached, still serving


def test_the_next_revision_reports_changes_and_keeps_field_status(
        empty: TestClient, revisions: list[bytes]) -> None:
    empty.post("/api/models", content=revisions[0])
    columns = [e["id"] for e in empty.get("/api/elements", params={"type": "IfcColumn"}).json()[
        "elements"]]
    for column in columns:  # a field status on every column: some will be changed too
        empty.patch(f"/api/elements/{column}", json={"status": "issue"})
    report = empty.post("/api/models", content=revisions[1]).json()
    assert report["added"] and report["removed"] and report["changed"]
    kept = [c for c in columns if c not in report["removed"]]
    # The next revision changes some columns; their field status must survive as well.
    assert any(c in report["changed"] for c in kept)
    for column in kept:
        assert empty.get(f"/api/elements/{column}").json()["status"] == "issue"
    archived = empty.get(f"/api/elements/{report['removed'][0]}").json()
    assert archived["archived"] is True  # archived, not deleted
    kinds = [e["kind"] for e in empty.get("/api/events", params={"limit": 10000}).json()[
        "events"]]
    assert kinds.count("model_imported") == 2 and "element_archived" in kinds


def test_a_broken_file_is_refused_whole(empty: TestClient, revisions: list[bytes]) -> None:
    truncated = revisions[0][: len(revisions[0]) // 2]
    answer = empty.post("/api/models", content=truncated)
    assert answer.status_code == 422
    assert answer.json()["error"] in ("broken_ifc", "not_ifc")
    assert empty.get("/api/project").json()["element_count"] == 0
    assert empty.post("/api/models", content=b"").json()["error"] == "no_file"


def test_a_file_that_does_not_parse_is_refused_with_the_line_it_stops_at(
        empty: TestClient, revisions: list[bytes]) -> None:
    damaged = revisions[0].replace(b"IFCWALL(", b"IFCWALLX(", 1)
    answer = empty.post("/api/models", content=damaged)
    assert answer.status_code == 422
    body = answer.json()
    line = damaged[: damaged.index(b"IFCWALLX(")].count(b"\n") + 1
    assert (body["error"], body["line"]) == ("broken_ifc", line)
    assert f"line {line}" in body["detail"] and "IFCWALLX" in body["detail"]


def test_a_watching_client_hears_of_an_imported_model_once(
        empty: TestClient, revisions: list[bytes]) -> None:
    with empty.websocket_connect("/ws") as ws:
        ws.send_json({"type": "subscribe", "elements": "*"})
        assert ws.receive_json()["type"] == "snapshot"
        empty.post("/api/models", content=revisions[0])
        element = empty.get("/api/elements", params={"type": "IfcSlab"}).json()["elements"][0]
        empty.patch(f"/api/elements/{element['id']}", json={"status": "issue"})  # a marker
        kinds: list[str] = []
        while "status_changed" not in kinds:
            message = ws.receive_json()
            kinds += [change["kind"] for change in message.get("changes", [])]
    assert kinds.count("model_imported") == 1
    assert "element_added" not in kinds  # clients reload the model instead


@pytest.fixture(scope="module")
def unrelated(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return unrelated_model(tmp_path_factory.mktemp("unrelated") / "shed.ifc").read_bytes()


def upload(client: TestClient, data: bytes, **params: str) -> Response:
    return client.post("/api/models", params=params, content=data,
                       headers={"content-type": "application/octet-stream"})


def test_a_file_of_another_project_is_refused_with_409_saying_why_and_the_counts(
        empty: TestClient, revisions: list[bytes], unrelated: bytes) -> None:
    first = upload(empty, revisions[0]).json()
    elements = empty.get("/api/project").json()["element_count"]
    answer = upload(empty, unrelated, name="shed.ifc")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"] == "import_refused" and "force" in body["detail"]
    assert [r["reason"] for r in body["refusals"]] == ["other_project", "archives_too_much"]
    assert body["refusals"][0]["current_project"] == first["project_id"]
    assert body["counts"]["archived"] == len(first["added"]) and body["counts"]["added"] == 4
    assert empty.get("/api/model").json()["revision"] == first["revision"]
    assert empty.get("/api/project").json()["element_count"] == elements


def test_a_dry_run_says_what_would_change_and_changes_nothing(
        empty: TestClient, revisions: list[bytes], unrelated: bytes,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service_models, "DRY_RUN_IDS", 10)  # the model holds 110 elements
    upload(empty, revisions[0])
    events = empty.get("/api/events", params={"limit": 10000}).json()["events"]
    plan = upload(empty, revisions[1], dry_run="1")
    assert plan.status_code == 200
    body = plan.json()
    assert body["dry_run"] is True and body["refusals"] == []
    assert body["counts"]["added"] == len(body["added"]) > 0
    assert body["counts"]["archived"] == len(body["removed"]) > 0
    refused = upload(empty, unrelated, dry_run="true").json()
    assert [r["reason"] for r in refused["refusals"]] == ["other_project", "archives_too_much"]
    assert len(refused["removed"]) == 10 and refused["counts"]["archived"] == 110  # ids capped
    assert empty.get("/api/events", params={"limit": 10000}).json()["events"] == events


def test_force_imports_a_refused_file_and_the_audit_log_and_etags_record_it(
        empty: TestClient, revisions: list[bytes], unrelated: bytes) -> None:
    upload(empty, revisions[0])
    slab = empty.get("/api/elements", params={"type": "IfcSlab"}).json()["elements"][0]["id"]
    sensor = next(s for s in empty.get("/api/sensors").json()["sensors"]
                  if s["binding"] and s["binding"]["element_id"] == slab)
    element_etag = empty.get(f"/api/elements/{slab}").headers["etag"]
    sensor_etag = empty.get(f"/api/sensors/{sensor['id']}").headers["etag"]
    assert sensor["binding_state"] == "bound"

    answer = upload(empty, unrelated, name="shed.ifc", force="1")
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert report["forced"] == ["other_project", "archives_too_much"]
    assert empty.get("/api/model").json()["project_id"] == report["project_id"]
    entry = empty.get("/api/audit", params={"newest_first": "true", "limit": 1}).json()[
        "entries"][0]
    assert entry["operation"] == "import_model"
    assert entry["after"]["forced"] == ["other_project", "archives_too_much"]
    assert empty.get(f"/api/elements/{slab}").headers["etag"] != element_etag
    after = empty.get(f"/api/sensors/{sensor['id']}")
    assert after.headers["etag"] != sensor_etag
    assert after.json()["binding_state"] == "element_archived"
    listed = {s["id"]: s["binding_state"] for s in empty.get("/api/sensors").json()["sensors"]}
    assert listed[sensor["id"]] == "element_archived"


def test_a_force_that_is_not_a_yes_or_no_is_refused(
        empty: TestClient, revisions: list[bytes]) -> None:
    answer = upload(empty, revisions[0], force="perhaps")
    assert answer.status_code == 422
    assert empty.get("/api/model").status_code == 404


def test_the_share_an_import_may_archive_is_the_servers_setting(
        tmp_path: Path, revisions: list[bytes]) -> None:
    settings = Settings(store=f"sqlite:///{tmp_path / 'twin.sqlite'}",
                        reimport_max_archive_share=0.0)
    with signed_in(settings) as strict:
        assert upload(strict, revisions[0]).status_code == 201  # the first is never refused
        answer = upload(strict, revisions[1])  # same project, archives a few partitions
        assert answer.status_code == 409
        assert [r["reason"] for r in answer.json()["refusals"]] == ["archives_too_much"]
        assert answer.json()["refusals"][0]["max_share"] == 0.0
