"""Concrete maturity and fused values in the dashboard, in headless Chromium against a real
server: the demo building, a mix of its slabs fitted from cylinder breaks, one floor
slab poured thirty hours ago and its two loggers' readings posted over HTTP. The slab's
panel shows its strength with the 90 % interval, the striking target reached and the
requirement expected at a local time with its earliest and latest; a slab with no pour
says why it has no estimate, and a wall (of no mix) shows nothing and is never asked
about. The "Concrete strength" colour mode colours the slab by its share of the
required strength, reading the slabs a few at a time, and only once chosen. The slab's
temperature, fused from the two loggers, shows its uncertainty and each one's share,
which stays open while readings arrive. A mix declared while the page is open reaches
the panel without a reload. Screenshots at desktop and tablet sizes go to
``$TWINSYNC_SCREENSHOTS`` if set, else to pytest's temp folder.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server import free_port

from .layout import assert_panel_and_legend_fit
from .test_dashboard import NO_VALUE, require_chromium
from .twin_server import ServerThread, seed

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
AMBER = "#e8a33d"  # 50-100 % of the required strength, in maturity_model.js
NO_ESTIMATE = "#8592a3"  # an element of a mix with no estimate, in maturity_model.js
BREAKS = [(250.0, 6.0), (500.0, 11.0), (1000.0, 16.5), (2000.0, 19.0), (4000.0, 24.5)]
MIX = {"name": "C30/37 floor", "ifc_class": "IfcSlab", "required_strength": 25.0,
       "targets": {"striking": 12.0},
       "curve": {"form": "logarithmic",
                 "breaks": [{"maturity": m, "strength": s} for m, s in BREAKS]}}
MATURITY = '#panel [data-role="maturity"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    thread = ServerThread(seed(tmp_path_factory.mktemp("twin")), free_port())
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def api(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0, headers=server.headers) as client:
        yield client


@pytest.fixture(scope="module")
def site(api: httpx.Client) -> dict[str, Any]:
    """The mix declared, the first floor slab poured thirty hours ago, and its two site
    loggers' readings since: every five minutes, then every two seconds for the last five
    minutes (as often as the loggers say they read, so health learns their noise). The
    concrete warms with its heat of hydration and cools again; one logger reads finer
    than the other."""
    assert api.post("/api/mixes", json=MIX).status_code == 201
    slabs = sorted((e for e in api.get("/api/elements", params={"type": "IfcSlab"}).json()[
        "elements"] if e["sensors"]), key=lambda e: e["name"])
    slab = slabs[0]
    now = time.time()
    pour = now - 30 * 3600
    api.patch(f"/api/elements/{slab['id']}",
              json={"properties": {"poured_at": pour}}).raise_for_status()
    fine, coarse = (s["id"] for s in slab["sensors"][1:3])
    rng = random.Random(7)
    times = [pour + 300.0 * k for k in range(1, int((30 * 3600 - 400) / 300) + 1)]
    times += [now - 2.0 * j for j in range(150, 0, -1)]
    readings = []
    for t in times:
        hours = (t - pour) / 3600
        concrete = 18 + 14 * (hours / 12) * math.exp(1 - hours / 12)
        readings.append({"sensor_id": fine, "time": t,
                         "value": round(concrete + rng.gauss(0, 0.02), 3)})
        readings.append({"sensor_id": coarse, "time": t,
                         "value": round(concrete + 0.05 + rng.gauss(0, 0.04), 3)})
    for start in range(0, len(readings), 500):
        answer = api.post("/api/readings", json=readings[start:start + 500]).json()
        assert answer["accepted"] == len(readings[start:start + 500])
    view = api.get(f"/api/elements/{slab['id']}/maturity").json()
    # What the test needs of the server: an interval, one target reached, one expected.
    assert view["strength_interval"] and view["targets"]["striking"]["reached"]
    assert view["targets"]["required"]["expected_at"]["latest"] is not None
    return {"slab": slab, "other": slabs[1], "slabs": slabs, "sensors": (fine, coarse)}


def open_page(browser: Any, server: ServerThread,
              viewport: dict[str, int]) -> tuple[Any, Any, list[str]]:
    """A signed-in, live page in British English on UTC, so dates read one way."""
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/login#token={server.token}")
    page.wait_for_url(f"{server.url}/", timeout=10_000)
    page.wait_for_function("window.twinsync && window.twinsync.connection === 'live'",
                           timeout=15_000)
    return context, page, errors


@pytest.fixture(scope="module")
def page(browser: Any, server: ServerThread, site: dict[str, Any]) -> Iterator[Any]:
    context, page, errors = open_page(browser, server, DESKTOP)
    yield page
    context.close()
    assert not errors, f"the page threw: {errors}"


def choose(page: Any, element: dict[str, Any]) -> None:
    page.fill("#tree-search", element["name"])
    page.locator(f'#tree .leaf[data-id="{element["id"]}"]').click()
    page.wait_for_function("(id) => window.twinsync.selectedId === id", arg=element["id"])


def local(epoch: float) -> str:
    """A time as the page writes it in en-GB on UTC: "Thu 10 Dec, 07:21"."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"


def test_a_slab_of_a_mix_shows_its_strength_interval_and_when_it_is_expected(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab = site["slab"]
    choose(page, slab)
    page.wait_for_selector(f"{MATURITY} .figure", timeout=10_000)
    view = api.get(f"/api/elements/{slab['id']}/maturity").json()
    low, high = view["strength_interval"]["low"], view["strength_interval"]["high"]
    assert page.text_content(f"{MATURITY} .figure") == \
        f"{view['strength']:.1f} MPa ({low:.1f}\u2013{high:.1f}, 90 %)"
    assert "of 25.0 MPa required" in (page.text_content(f"{MATURITY} .required-line") or "")
    striking = page.text_content(f'{MATURITY} [data-target="striking"]') or ""
    assert "\u2713" in striking and "reached" in striking and "12.0 MPa" in striking
    expected = view["targets"]["required"]["expected_at"]
    required = " ".join((page.text_content(f'{MATURITY} [data-target="required"]') or "").split())
    assert f"expected {local(expected['time'])}" in required
    assert f"earliest {local(expected['earliest'])} \u2013 latest {local(expected['latest'])}" \
        in required
    text = page.text_content(MATURITY) or ""
    assert view["mix"] in text and "\u00b0C\u00b7h" in text
    assert page.text_content(f'{MATURITY} [data-role="governing"]') == view["governing_sensor"]
    assert page.text_content(f'{MATURITY} [data-role="confidence"]') == \
        f"{round(view['confidence'] * 100)} %"
    assert page.text_content(f'{MATURITY} [data-role="last-reading"]') in (
        "just now", *(f"{n} s ago" for n in range(2, 60)), "1 min ago", "2 min ago")
    page.locator(MATURITY).screenshot(path=str(shots / "maturity_panel.png"))


def test_a_slab_without_a_pour_says_why_and_a_wall_of_no_mix_shows_nothing(
        page: Any, api: httpx.Client, site: dict[str, Any]) -> None:
    choose(page, site["other"])
    page.wait_for_selector(f'{MATURITY} [data-role="maturity-detail"]', timeout=10_000)
    assert "pour is not known" in (page.text_content(f"{MATURITY} [data-role=maturity-detail]")
                                   or "")
    # Once the mixes are read, the page knows a wall is of none without asking.
    page.wait_for_function("window.twinsync.maturity?.mixes?.length === 1")
    asked = page.evaluate("window.twinsync.maturity.requested")
    wall = api.get("/api/elements", params={"type": "IfcWall"}).json()["elements"][0]
    choose(page, wall)
    page.wait_for_timeout(300)
    assert page.locator(MATURITY).count() == 0
    assert page.evaluate("window.twinsync.maturity.requested") == asked  # never asked
    page.fill("#tree-search", "")


def test_the_maturity_colour_mode_colours_slabs_by_their_share_of_the_required_strength(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab, slabs = site["slab"], site["slabs"]
    asked = page.evaluate("window.twinsync.maturity.requested")
    page.wait_for_timeout(500)
    assert page.evaluate("window.twinsync.maturity.requested") == asked  # only when chosen
    page.select_option("#color-mode", "@maturity")
    page.wait_for_function("""(id) => window.twinsync.maturity.pending === 0
        && window.twinsync.colorOf(id) !== '#4d5868'""", arg=slab["id"], timeout=15_000)
    assert page.evaluate("(id) => window.twinsync.colorOf(id)", slab["id"]) == AMBER
    # The slabs without a pour are of the mix but have no estimate; walls are of none.
    others = [s for s in slabs if s["id"] != slab["id"]]
    assert all(page.evaluate("(id) => window.twinsync.colorOf(id)", s["id"]) == NO_ESTIMATE
               for s in others)
    wall = api.get("/api/elements", params={"type": "IfcWall"}).json()["elements"][0]
    assert page.evaluate("(id) => window.twinsync.colorOf(id)", wall["id"]) == NO_VALUE
    # Read a few at a time, only the slabs (ten of them in the demo), never the rest.
    assert 1 <= page.evaluate("window.twinsync.maturity.maxInFlight") <= 4
    assert page.evaluate("window.twinsync.maturity.requested") - asked <= 10
    legend = page.locator("#legend")
    assert legend.locator('[data-band="half"] b').text_content() == "1"
    assert "of a mix" in (legend.locator(".note").text_content() or "")
    page.screenshot(path=str(shots / "maturity_colour_mode.png"))
    page.select_option("#color-mode", "status")


def fused_summary(page: Any) -> Any:
    return page.locator('#panel tr[data-property="core_temperature"] details.fused')


def fresh_readings(api: httpx.Client, sensors: tuple[str, str], seed: int) -> None:
    """Twenty seconds more of both loggers, ending now: they are live and trusted."""
    rng, now = random.Random(seed), time.time()
    api.post("/api/readings", json=[
        {"sensor_id": sensor, "time": now - 2.0 * j,
         "value": round(25.8 + offset + rng.gauss(0, noise), 3)}
        for j in range(10, -1, -1)
        for sensor, offset, noise in ((sensors[0], 0.0, 0.02), (sensors[1], 0.05, 0.04))
    ]).raise_for_status()


def test_a_property_fed_by_two_sensors_shows_its_uncertainty_and_each_share(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab = site["slab"]
    choose(page, slab)
    fresh_readings(api, site["sensors"], seed=11)
    summary = fused_summary(page).locator("summary")
    # The page re-reads the element's shares while its values move (every 5 s at most).
    deadline = time.monotonic() + 12
    while True:
        fused = api.get(f"/api/elements/{slab['id']}").json()["properties"]["core_temperature"]
        uncertainty, weights = fused["uncertainty"], fused["weights"]
        assert uncertainty is not None and set(weights) == set(site["sensors"])
        digits = max(0, 1 - math.floor(math.log10(uncertainty)))
        expected = f"\u00b1 {uncertainty:.{digits}f} \u00b0C \u00b7 2 sensors"
        title = (summary.get_attribute("title") or "") if summary.count() else ""
        if (summary.count() and summary.text_content() == expected
                and all(f"{s} {round(w * 100)} %" in title for s, w in weights.items())) \
                or time.monotonic() > deadline:
            break
        page.wait_for_timeout(250)
    # Its ± in the value's unit, and hovering says each share.
    assert summary.text_content() == expected
    for sensor, share in weights.items():
        assert f"{sensor} {round(share * 100)} %" in title
    # Opening lists them.
    summary.click()
    for sensor, share in weights.items():
        row = fused_summary(page).locator(f'[data-sensor-share="{sensor}"]')
        assert row.is_visible() and row.locator("b").text_content() == f"{round(share * 100)} %"
    page.locator("#panel .props").screenshot(path=str(shots / "fused_detail.png"))
    # A reading redraws the row: the list stays open, the uncertainty beside the new value.
    row = '#panel tr[data-property="core_temperature"] .pmeta [data-time]'
    before = page.get_attribute(row, "data-time")
    fresh_readings(api, site["sensors"], seed=12)
    page.wait_for_function("([row, before]) => document.querySelector(row)?.dataset.time"
                           " !== before", arg=[row, before], timeout=5_000)
    assert fused_summary(page).get_attribute("open") is not None
    assert (fused_summary(page).locator("summary").text_content() or "").startswith("\u00b1 0.")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_the_slabs_panel_fits_at_desktop_and_tablet_sizes(
        browser: Any, server: ServerThread, site: dict[str, Any], shots: Path, size: str) -> None:
    context, page, errors = open_page(browser, server, DESKTOP if size == "desktop" else TABLET)
    try:
        choose(page, site["slab"])
        page.wait_for_selector(f"{MATURITY} .figure", timeout=10_000)
        fused_summary(page).locator("summary").click()
        page.select_option("#color-mode", "@maturity")
        page.wait_for_function("window.twinsync.maturity.pending === 0", timeout=15_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / f"maturity_{size}.png"))
        page.locator(MATURITY).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"maturity_{size}_panel.png"))
        assert_panel_and_legend_fit(page, '[data-role="maturity"] *, details.fused *')
    finally:
        context.close()
    assert not errors, f"the page threw: {errors}"


def test_a_mix_declared_while_the_page_is_open_reaches_the_panel(
        page: Any, api: httpx.Client) -> None:
    column = api.get("/api/elements", params={"type": "IfcColumn"}).json()["elements"][0]
    choose(page, column)
    page.wait_for_timeout(300)
    assert page.locator(MATURITY).count() == 0  # of no mix yet
    columns = {**MIX, "name": "C40/50 columns", "ifc_class": "IfcColumn"}
    assert api.post("/api/mixes", json=columns).status_code == 201
    page.wait_for_selector(f'{MATURITY} [data-role="maturity-detail"]', timeout=10_000)
    assert "C40/50 columns" in (page.text_content(MATURITY) or "")
    assert "pour is not known" in (page.text_content(MATURITY) or "")
    page.fill("#tree-search", "")
