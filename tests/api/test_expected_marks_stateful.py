"""Marks of expected anomalies over HTTP against a plain model (Hypothesis' stateful
testing): operators mark a sensor's or an element's anomalies, withdraw marks (a standing
one, one withdrawn already, one that never was, one without a reason), the server
restarts, and readers list the marks a page at a time.

What must hold: ``GET /api/anomalies/expected`` lists exactly the model's standing marks
by default, its withdrawn ones with ``withdrawn=only`` (who withdrew each, when and why)
and both with ``withdrawn=include``, filtered by sensor or element, in one order, the
pages joined whole; nothing is ever lost, a restart included; a second withdrawal is 409,
an unknown mark 404, a withdrawal without a reason 422, and none of those changes
anything.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.model import Binding, Element, Sensor
from twinsync.service import TwinService
from twinsync.tokens import Role

#: The twin: a slab with two loggers, a wall with one, and a logger bound to nothing.
BOUND = {"s0": "slab", "s1": "slab", "s2": "wall"}
SENSORS = (*BOUND, "loose")
TARGETS = [("sensor_id", s) for s in SENSORS] + [("element_id", "slab"), ("element_id", "wall")]
FILTERS: list[dict[str, str]] = [{}, {"sensor_id": "s1"}, {"sensor_id": "loose"},
                                 {"element_id": "slab"}, {"element_id": "wall"}]
MODES = ("exclude", "include", "only")


def key(span: dict[str, Any]) -> tuple[str, float, str]:
    """The listing's order: by sensor, then when marked, then the mark's id."""
    return (span["sensor_id"], span["marked_at"], span["id"])


class MarksMachine(RuleBasedStateMachine):
    @initialize()
    def open_twin(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="twinsync-marks-")
        self.url = f"sqlite:///{Path(self.folder.name) / 'twin.sqlite'}"

        async def seed() -> None:
            service = TwinService.open(self.url)
            await service.import_project(
                [Element("slab", "IfcSlab"), Element("wall", "IfcWall")],
                [Sensor(s, "temperature", "degC") for s in SENSORS],
                [Binding(s, element, "core_temperature") for s, element in BOUND.items()])
            await service.aclose()

        asyncio.run(seed())
        self.headers: dict[Role, dict[str, str]] = {}
        for role in (Role.VIEWER, Role.OPERATOR, Role.ADMIN):
            secret, _ = create_token(self.url, f"machine {role.value}", role)
            self.headers[role] = {"Authorization": f"Bearer {secret}"}
        self.client = self.start()
        # The model: every span each mark made, as the mark's answer gave it, and how
        # each withdrawn mark was withdrawn (by, at, why).
        self.marks: dict[str, list[dict[str, Any]]] = {}
        self.withdrawn: dict[str, dict[str, Any]] = {}

    def start(self) -> TestClient:
        client = TestClient(create_app(Settings(store=self.url)))
        client.__enter__()
        return client

    def teardown(self) -> None:
        if hasattr(self, "client"):
            self.client.__exit__(None, None, None)
            self.folder.cleanup()

    def model(self, mode: str, only: dict[str, str]) -> list[dict[str, Any]]:
        rows = []
        for mark_id, spans in self.marks.items():
            gone = self.withdrawn.get(mark_id)
            if (mode == "exclude" and gone) or (mode == "only" and not gone):
                continue
            for span in spans:
                sensor = span["sensor_id"]
                if "sensor_id" in only and sensor != only["sensor_id"]:
                    continue
                if "element_id" in only and BOUND.get(sensor) != only["element_id"]:
                    continue
                rows.append({**span, **(gone or {"withdrawn_at": None, "withdrawn_by": None,
                                                  "withdrawn_reason": None})})
        return sorted(rows, key=key)

    def listing(self, mode: str, only: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """The whole listing, read ``limit`` spans a page."""
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            query: dict[str, Any] = {**only, "withdrawn": mode, "limit": limit}
            if after is not None:
                query["after"] = after
            answer = self.client.get("/api/anomalies/expected", params=query,
                                     headers=self.headers[Role.VIEWER])
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert len(page["expected"]) <= limit
            rows += page["expected"]
            after = page.get("next")
            if after is None:
                return rows
            assert len(page["expected"]) == limit  # a page before the last is full

    # -- marks and withdrawals -----------------------------------------------------------

    @rule(scope=st.sampled_from(TARGETS), start=st.integers(0, 20), length=st.integers(0, 5),
          reason=st.sampled_from(["pour", "load test", "heater test"]),
          role=st.sampled_from([Role.OPERATOR, Role.ADMIN]))
    def mark(self, scope: tuple[str, str], start: int, length: int, reason: str,
             role: Role) -> None:
        body = {scope[0]: scope[1], "start": start * 3600.0,
                "end": (start + length) * 3600.0, "reason": reason}
        answer = self.client.post("/api/anomalies/expected", json=body,
                                  headers=self.headers[role])
        assert answer.status_code == 201, answer.text
        spans = answer.json()["expected"]
        (mark_id,) = {span["id"] for span in spans}
        assert mark_id not in self.marks
        assert all(span["by"] == f"machine {role.value}" and span["withdrawn_at"] is None
                   for span in spans)
        self.marks[mark_id] = spans

    @precondition(lambda self: bool(self.marks))
    @rule(data=st.data(), why=st.sampled_from(["wrong slab", "wrong span", " ", None]),
          role=st.sampled_from([Role.OPERATOR, Role.ADMIN]))
    def withdraw(self, data: st.DataObject, why: str | None, role: Role) -> None:
        """Withdraw a mark of the model, standing or withdrawn already, with a reason or a
        blank one; or (``why`` None) one that never was."""
        mark_id = "never" if why is None else data.draw(st.sampled_from(sorted(self.marks)))
        answer = self.client.request("DELETE", f"/api/anomalies/expected/{mark_id}",
                                     json={"reason": why or "x"}, headers=self.headers[role])
        if why is None:
            assert answer.status_code == 404, answer.text
        elif not why.strip():
            assert answer.status_code == 422 and answer.json()["error"] == "no_reason"
        elif mark_id in self.withdrawn:
            assert answer.status_code == 409, answer.text  # twice is refused
        else:
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert sorted(body["sensors"]) == sorted(s["sensor_id"]
                                                     for s in self.marks[mark_id])
            self.withdrawn[mark_id] = {"withdrawn_at": body["withdrawn_at"],
                                       "withdrawn_by": f"machine {role.value}",
                                       "withdrawn_reason": why}

    @rule()
    def restart(self) -> None:
        self.client.__exit__(None, None, None)
        self.client = self.start()

    # -- reading -------------------------------------------------------------------------

    @rule(mode=st.sampled_from(MODES), only=st.sampled_from(FILTERS), limit=st.integers(1, 4))
    def read_in_pages(self, mode: str, only: dict[str, str], limit: int) -> None:
        assert self.listing(mode, only, limit) == self.model(mode, only)

    @invariant()
    def every_mark_is_listed_as_the_model_holds_it(self) -> None:
        if not hasattr(self, "client"):
            return
        for mode in MODES:
            assert self.listing(mode, {}, 10_000) == self.model(mode, {}), mode


MarksMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=16, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
test_marks_over_http_match_the_model = MarksMachine.TestCase
