"""The fleet's anomaly storm in the dashboard, in headless Chromium against a real server
whose budget is two anomaly events a window of 30 s (the ``anomaly_fleet_events`` and
``anomaly_event_quiet_seconds`` settings): every slab logger leaving its values at once
shows a notice under the header, live, with how many anomalies went untold and in which
window; the same after a reload (read from the events API) on a page whose clock is two
hours fast (the page reads the time through its offset from the server's); the final count once the
window has passed; and nothing once a window has passed without a storm.

Screenshots go to ``$TWINSYNC_SCREENSHOTS`` if set, else to pytest's temp folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.departures import departure

from .test_dashboard import elements, open_page, require_chromium
from .twin_server import ServerThread, serving_demo

pytestmark = pytest.mark.browser

QUIET = 30.0  # the window of the budget, and each sensor's quiet time, in seconds
BUDGET = 2
DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
NOTICE = "#storm"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    with serving_demo(tmp_path_factory.mktemp("twin"), anomaly_fleet_events=BUDGET,
                      anomaly_event_quiet_seconds=QUIET) as thread:
        yield thread


@pytest.fixture(scope="module")
def api(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0, headers=server.headers) as client:
        yield client


def live(page: Any) -> None:
    page.wait_for_function("window.twinsync && window.twinsync.connection === 'live'",
                           timeout=15_000)


def every_slab_departs(api: httpx.Client) -> None:
    """Every slab logger: days of a regular course past the detector's learning, then 6 degrees
    high, inside a span marked expected for every slab (a pour across the site: events,
    no alarms, so the budget decides what is told)."""
    slabs = [s for s in elements(api, type="IfcSlab") if s["sensors"]]
    now = time.time()
    for slab in slabs:
        api.post("/api/anomalies/expected", json={
            "element_id": slab["id"], "start": now - 600, "end": now + 60,
            "reason": "pour of every slab"}).raise_for_status()
    readings = departure([sensor["id"] for slab in slabs for sensor in slab["sensors"]], now)
    assert api.post("/api/readings", json=readings).json()["accepted"] == len(readings)


def newest(api: httpx.Client, kind: str) -> dict[str, Any]:
    (event,) = api.get("/api/events", params={"kind": kind, "newest_first": "true",
                                              "limit": 1}).json()["events"]
    return dict(event["data"])


def clock(page: Any, epoch_seconds: float) -> str:
    """A time as the page writes it in the notice (its locale; a window this short, to
    the second)."""
    return str(page.evaluate("(t) => new Date(t * 1000).toLocaleTimeString([], "
                             "{hour: '2-digit', minute: '2-digit', second: '2-digit'})",
                             epoch_seconds))


def test_a_storm_is_shown_live_and_after_a_reload_then_its_final_count_then_nothing(
        browser: Any, server: ServerThread, api: httpx.Client, shots: Path) -> None:
    page, errors = open_page(browser, server, DESKTOP)
    try:
        assert page.locator(NOTICE).is_hidden()
        every_slab_departs(api)
        storm = newest(api, "anomaly_storm")
        assert storm["told"] == BUDGET and storm["untold"] > 0
        # Live: the storm's event reaches the page over the socket.
        page.wait_for_function("() => window.twinsync.storm?.state === 'storming'",
                               timeout=5_000)
        notice = page.locator(NOTICE)
        text = notice.inner_text()
        assert "Anomaly storm" in text and f"{storm['untold']} anomalies counted" in text
        assert f"since {clock(page, storm['since'])}" in text
        assert f"until {clock(page, storm['until'])}" in text and f"{BUDGET} told" in text
        assert "alarms are still raised" in text
        for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            box = notice.bounding_box()
            header = page.locator("header.top").bounding_box()
            # Right under the header, the page's whole width, the sign-out still in view.
            assert box["y"] == pytest.approx(header["y"] + header["height"], abs=1.5)
            assert box["width"] == pytest.approx(size["width"], abs=1)
            assert page.locator("#sign-out").is_visible()
            page.screenshot(path=str(shots / f"storm_{name}.png"))
        page.set_viewport_size(DESKTOP)
        # After a reload, from the events API; the page's clock now two hours fast (a site
        # tablet's), which by its own clock would put the storm's window long past.
        page.clock.install(time=time.time() + 7200)
        page.reload()
        live(page)
        assert page.evaluate("Date.now() / 1000") - time.time() > 7000
        page.wait_for_function("() => window.twinsync.storm?.state === 'storming'",
                               timeout=5_000)
        assert f"{storm['untold']} anomalies counted" in notice.inner_text()
        # The window passes; the next reading ends the storm with its final count.
        time.sleep(max(0.0, storm["until"] - time.time()) + 0.5)
        slab = next(s for s in elements(api, type="IfcSlab") if s["sensors"])
        api.post("/api/readings", json=[{"sensor_id": slab["sensors"][0]["id"],
                                         "time": time.time(), "value": 26.0}])
        ended = newest(api, "anomaly_storm_ended")
        assert (ended["since"], ended["told"]) == (storm["since"], BUDGET)
        assert ended["untold"] >= storm["untold"]
        page.wait_for_function("() => window.twinsync.storm?.state === 'over'",
                               timeout=5_000)
        text = notice.inner_text()
        assert "Anomaly storm over" in text and "at least" not in text
        assert (f"{ended['untold']} anomalies went untold from {clock(page, ended['since'])} "
                f"to {clock(page, ended['until'])}") in text
        page.screenshot(path=str(shots / "storm_over_desktop.png"))
        # A window on without a storm: the notice goes.
        page.wait_for_selector(NOTICE, state="hidden",
                               timeout=(ended["until"] + QUIET - time.time() + 10) * 1000)
        assert page.evaluate("window.twinsync.storm.state") is None
    finally:
        page.close()
    assert not errors, f"the page threw: {errors}"
