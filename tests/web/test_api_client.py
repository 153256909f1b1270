"""The dashboard's REST calls (web/static/js/api.js) in headless Chromium against a real
server: an element, a logger and an activity whose ids hold slashes (a slab and a logger
named by their MQTT topic, an activity code ``L9/A100``) are each read and changed by the
page's own functions, which put an id into a path with ``encodeURIComponent``; an id that
ends like a route's tail (``a/health``) is the logger's, not the route's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .test_dashboard import open_page, require_chromium
from .twin_server import ServerThread, serving_demo

pytestmark = pytest.mark.browser

SLAB = "site/L9/slab"
LOGGERS = ["site/L9/t1", "a/health"]
PLAN = "# project=L9\ncode,name,duration_hours,planned_start\nL9/A100,Slab L9,16,2026-03-02 08:00\n"

#: Each call the panel makes for an element, a logger and an activity, by api.js.
CALLS = """async ({slab, loggers, activity, start, end}) => {
  const api = await import("/static/js/api.js");
  const history = await Promise.all(loggers.map((id) => api.getReadings(id, start, end)));
  return {
    element: (await api.getElement(slab)).id,
    status: (await api.setStatus(slab, "in_progress")).element.status,
    readings: history.map((answer) => [answer.sensor_id, answer.time.length]),
    twin: (await api.getElementTwin(slab)).element_id,
    zone: (await api.getZone(slab, 1)).element_id,
    track: (await api.getTwinTrack(slab, "core_temperature", start, end)).element_id,
    maturity: await api.getMaturity(slab),
    activity: (await api.getActivity(activity)).id,
  };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    with serving_demo(tmp_path_factory.mktemp("twin")) as thread:
        yield thread


def plant(server: ServerThread, now: float) -> None:
    """The slab, its loggers bound and read for an hour, and a plan with the activity."""
    with httpx.Client(base_url=server.url, timeout=30.0, headers=server.headers) as api:
        api.post("/api/elements", json={"id": SLAB, "type": "IfcSlab"}).raise_for_status()
        for logger in LOGGERS:
            api.post("/api/sensors", json={"id": logger, "kind": "temperature",
                                           "unit": "degC"}).raise_for_status()
            # Sent as the page would: encoded.
            api.put(f"/api/sensors/{logger.replace('/', '%2F')}/binding", json={
                "element_id": SLAB, "property": "core_temperature"}).raise_for_status()
        readings = [{"sensor_id": logger, "time": now - 3600 + 60 * k, "value": 20.0 + k % 2}
                    for logger in LOGGERS for k in range(60)]
        assert api.post("/api/readings", json=readings).json()["accepted"] == len(readings)
        api.post("/api/schedules?name=plan.csv&force=true", content=PLAN, headers={
            "content-type": "application/octet-stream"}).raise_for_status()


def test_the_pages_calls_reach_an_element_a_logger_and_an_activity_whose_ids_hold_slashes(
        browser: Any, server: ServerThread) -> None:
    now = time.time()
    plant(server, now)
    page, errors = open_page(browser, server)
    try:
        answers = page.evaluate(CALLS, {"slab": SLAB, "loggers": LOGGERS,
                                        "activity": "L9/A100", "start": now - 7200,
                                        "end": now + 60})
    finally:
        page.close()
    assert answers == {
        "element": SLAB, "status": "in_progress",
        "readings": [["site/L9/t1", 60], ["a/health", 60]],
        "twin": SLAB, "zone": SLAB, "track": SLAB,
        "maturity": None,  # the slab is of no mix: the maturity route's own 404
        "activity": "L9/A100"}
    assert not errors, f"the page threw: {errors}"
