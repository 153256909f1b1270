"""The audit log over HTTP: each audited operation leaves one entry naming the token that
made it (name, role, id) with the values before and after; ``GET /api/audit`` filters
and pages them, and is for admins only."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from twinsync.api.app import create_app
from twinsync.api.routes_twin import spec_for_audit
from twinsync.bim import generate_building
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.errors import StoreError
from twinsync.tokens import Role

from .conftest import bearer, seeded_store


def entries(client: TestClient, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/api/audit?limit=1000{query}")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["entries"]
    return found


def newest(client: TestClient) -> dict[str, Any]:
    return entries(client, "&newest_first=true")[0]


def token(url: str, role: Role) -> tuple[dict[str, str], str]:
    """The header of a new token of ``role``, and the token's id."""
    secret, record = create_token(url, f"tests {role.value}", role)
    return {"Authorization": f"Bearer {secret}"}, record.id


class As:
    """Requests of one token to a shared client."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def __getattr__(self, method: str) -> Any:
        def send(url: str, **kwargs: Any) -> Any:
            return getattr(self.client, method)(url, headers=self.headers, **kwargs)
        return send


def test_each_change_leaves_an_entry_with_who_made_it_and_the_values_before_and_after(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    (admin_header, admin_id), (operator_header, operator_id) = (
        token(url, Role.ADMIN), token(url, Role.OPERATOR))
    with TestClient(create_app(Settings(store=url)), headers=admin_header) as admin:
        operator = As(admin, operator_header)
        by_admin = {"name": "tests admin", "role": "admin", "token_id": admin_id}
        by_operator = {"name": "tests operator", "role": "operator", "token_id": operator_id}

        was = admin.get("/api/elements/L1-slab").json()["status"]
        operator.patch("/api/elements/L1-slab", json={"status": "issue"})
        entry = newest(admin)
        assert (entry["operation"], entry["target"], entry["element_id"]) == (
            "update_element", "element:L1-slab", "L1-slab")
        assert entry["by"] == by_operator
        assert (entry["before"], entry["after"]) == ({"status": was}, {"status": "issue"})

        operator.patch("/api/elements/L1-slab", json={"properties": {"note": "poured"}})
        entry = newest(admin)
        assert entry["before"] == {"properties": {"note": None}}
        assert entry["after"]["properties"]["note"]["value"] == "poured"
        assert entry["after"]["properties"]["note"]["source"] == "field"

        admin.post("/api/elements", json={"id": "L9-wall", "type": "IfcWall"})
        entry = newest(admin)
        assert (entry["operation"], entry["before"], entry["after"]["id"], entry["by"]) == (
            "add_element", None, "L9-wall", by_admin)

        admin.post("/api/sensors", json={"id": "L9-t", "kind": "temperature", "unit": "degC"})
        entry = newest(admin)
        assert (entry["operation"], entry["sensor_id"], entry["after"]["id"]) == (
            "add_sensor", "L9-t", "L9-t")

        admin.put("/api/sensors/L9-t/binding", json={"element_id": "L9-wall",
                                                      "property": "surface_temperature"})
        entry = newest(admin)
        assert (entry["operation"], entry["target"], entry["before"]) == (
            "bind_sensor", "binding:L9-t", None)
        assert entry["after"]["element_id"] == "L9-wall"

        admin.put("/api/sensors/L9-t/binding", json={"element_id": "L1-slab",
                                                      "property": "surface_temperature"})
        entry = newest(admin)
        assert (entry["before"]["element_id"], entry["after"]["element_id"]) == (
            "L9-wall", "L1-slab")

        admin.delete("/api/sensors/L9-t/binding")
        entry = newest(admin)
        assert (entry["operation"], entry["before"]["element_id"], entry["after"]) == (
            "unbind_sensor", "L1-slab", None)

        created = admin.post("/api/tokens", json={"name": "gw", "role": "device",
                                                  "sensors": ["L9-*"]}).json()
        entry = newest(admin)
        assert (entry["operation"], entry["target"], entry["by"]) == (
            "create_token", f"token:{created['id']}", by_admin)
        assert entry["after"] == {"id": created["id"], "name": "gw", "role": "device",
                                  "expires_at": None, "sensors": ["L9-*"]}
        assert created["token"] not in str(entry)

        admin.delete(f"/api/tokens/{created['id']}")
        entry = newest(admin)
        assert (entry["operation"], entry["before"]["revoked_at"]) == ("revoke_token", None)
        assert entry["after"]["revoked_at"] is not None


def test_readings_are_not_audited_one_by_one(client: TestClient) -> None:
    count = len(entries(client))
    client.post("/api/readings", json=[{"sensor_id": "L1-slab-t1", "value": 20.0 + i,
                                        "time": time.time() - 10 + i} for i in range(5)])
    assert len(entries(client)) == count


def test_the_log_is_filtered_by_element_sensor_token_and_time_and_read_in_pages(
        client: TestClient) -> None:
    start = time.time()
    for status in ("in_progress", "issue", "completed"):
        client.patch("/api/elements/L1-slab", json={"status": status})
    client.patch("/api/elements/L2-slab", json={"status": "issue"})
    client.delete("/api/sensors/L1-slab-t1/binding")
    mine = entries(client, "&newest_first=true")[0]["by"]["token_id"]

    of_slab = entries(client, "&element_id=L1-slab")
    assert [e["after"] for e in of_slab if e["operation"] == "update_element"] == [
        {"status": "in_progress"}, {"status": "issue"}, {"status": "completed"}]
    assert {e["element_id"] for e in of_slab} == {"L1-slab"}
    assert [e["operation"] for e in entries(client, "&sensor_id=L1-slab-t1")] == [
        "unbind_sensor"]
    assert len(entries(client, f"&token_id={mine}")) == 5
    assert entries(client, "&token_id=nobody") == []
    assert len(entries(client, f"&since={start}")) == 5
    assert entries(client, f"&until={start}") == [e for e in entries(client)
                                                   if e["time"] < start]

    # Pages of two, oldest first: each page says how to ask for the next.
    seen, after = [], 0
    while True:
        page = client.get(f"/api/audit?since={start}&limit=2&after={after}").json()
        seen += [e["id"] for e in page["entries"]]
        if page["next"] is None:
            break
        after = page["next"]["after"]
    assert seen == [e["id"] for e in entries(client, f"&since={start}")]
    newest_two = client.get("/api/audit?newest_first=true&limit=2").json()
    assert [e["id"] for e in newest_two["entries"]] == seen[::-1][:2]
    assert newest_two["next"] == {"before": seen[-2]}


def test_only_an_admin_reads_the_audit_log(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    for role in (Role.VIEWER, Role.OPERATOR, Role.DEVICE):
        grants = {"sensors": ("L1-*",)} if role is Role.DEVICE else {}
        with TestClient(create_app(Settings(store=url)),
                        headers=bearer(url, role, **grants)) as c:
            refused = c.get("/api/audit")
            assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    with TestClient(create_app(Settings(store=url))) as anonymous:
        assert anonymous.get("/api/audit").status_code == 401


def test_a_model_upload_and_a_connector_started_and_stopped_leave_entries(
        tmp_path: Path, mqtt_broker: tuple[str, int]) -> None:
    ifc = generate_building(tmp_path / "r0.ifc", storeys=1, bays_x=1, bays_y=1,
                            revision=0).path.read_bytes()
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    header, token_id = token(url, Role.ADMIN)
    settings = Settings(store=url, connector_hosts=[f"{mqtt_broker[0]}:{mqtt_broker[1]}"])
    with TestClient(create_app(settings), headers=header) as admin:
        report = admin.post("/api/models", params={"name": "tower.ifc"}, content=ifc).json()
        entry = newest(admin)
        assert (entry["operation"], entry["target"], entry["by"]["token_id"]) == (
            "import_model", f"model:{report['revision']}", token_id)
        assert entry["after"]["name"] == "tower.ifc" and entry["after"]["counts"]
        # Every element the import added starts at revision 1.
        wall = admin.get("/api/elements", params={"type": "IfcWall"}).json()["elements"][0]
        assert admin.get(f"/api/elements/{wall['id']}").headers["etag"] == '"1"'

        name = f"gw-{uuid.uuid4().hex[:8]}"
        spec = {"kind": "mqtt", "name": name, "host": mqtt_broker[0], "port": mqtt_broker[1],
                "topics": [f"{name}/{{sensor_id}}"], "persistent": False}
        assert admin.post("/api/connectors", json=spec).status_code == 201
        entry = newest(admin)
        assert (entry["operation"], entry["target"], entry["before"], entry["after"]) == (
            "add_connector", f"connector:{name}", None, spec)
        assert admin.delete(f"/api/connectors/{name}").status_code == 200
        entry = newest(admin)
        assert (entry["operation"], entry["before"], entry["after"]) == (
            "stop_connector", {"name": name}, None)
        assert entry["by"] == {"name": "tests admin", "role": "admin", "token_id": token_id}


def test_a_connectors_password_is_not_kept_in_the_log() -> None:
    spec = {"kind": "mqtt", "username": "gw", "password": "hunter2", "client_secret": "x"}
    assert spec_for_audit(spec) == {"kind": "mqtt", "username": "gw", "password": "***",
                                 "client_secret": "***"}


def test_a_connector_whose_entry_cannot_be_written_is_stopped_and_may_be_sent_again(
        tmp_path: Path, mqtt_broker: tuple[str, int]) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    header, _ = token(url, Role.ADMIN)
    settings = Settings(store=url, connector_hosts=[f"{mqtt_broker[0]}:{mqtt_broker[1]}"])
    name = f"gw-{uuid.uuid4().hex[:8]}"
    spec = {"kind": "mqtt", "name": name, "host": mqtt_broker[0], "port": mqtt_broker[1],
            "topics": [f"{name}/{{sensor_id}}"], "persistent": False}
    with TestClient(create_app(settings), headers=header) as admin:
        store = admin.app.state.service.store  # type: ignore[attr-defined]
        working = store.add_audit

        def database_down(entries: Any) -> None:
            raise StoreError("the database is down")

        store.add_audit = database_down
        answer = admin.post("/api/connectors", json=spec)
        assert answer.status_code == 503, answer.text
        running = [c["name"] for c in admin.get("/api/connectors").json()["connectors"]]
        assert name not in running
        # The database back, the same request starts it (not 409: it was not left running).
        store.add_audit = working
        assert admin.post("/api/connectors", json=spec).status_code == 201
        entry = newest(admin)
        assert (entry["operation"], entry["target"]) == ("add_connector", f"connector:{name}")
        assert admin.delete(f"/api/connectors/{name}").status_code == 200


def test_the_chain_is_verified_through_the_api_and_a_changed_entry_is_named(
        tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    admin_header, _ = token(url, Role.ADMIN)
    with TestClient(create_app(Settings(store=url)), headers=admin_header) as admin:
        assert admin.patch("/api/elements/L1-slab", json={"status": "issue"}).status_code == 200
        verdict = admin.get("/api/audit/verify").json()
        assert verdict["ok"] and verdict["broken_at"] is None
        head = f"{verdict['head']['id']}:{verdict['head']['hash']}"
        assert admin.get("/api/audit/verify", params={"expect": head}).json()["ok"]
        changed = newest(admin)["id"]
        with sqlite3.connect(url.removeprefix("sqlite:///")) as c:
            c.execute("UPDATE audit SET after = ? WHERE id = ?", (b'{"status":"done"}', changed))
        verdict = admin.get("/api/audit/verify").json()
        assert not verdict["ok"] and verdict["broken_at"] == changed
        refused = admin.get("/api/audit/verify", params={"expect": "7:xyz"})
        assert refused.status_code == 422 and refused.json()["error"] == "bad_expect"
