"""The physics twin in the dashboard, in headless Chromium against a real server: the demo
building, a slab logger's last hour posted over HTTP with a level shift near its end. The
slab's panel charts the logger's readings with its model's one-step prediction and 90 %
band from the server's track (the same numbers, point for point), shades the divergence
from the shift on, and lists each sensor's model (diverging since the shift, the others
still learning). The "Twin divergence" colour mode colours the slab red, slabs whose
models are learning blue-grey and elements without a sensor faded, counts them in its
legend, and turns a column red when its strain gauge diverges while the page is open.
A shadow twin started through the API shows each sensor's live against shadow error and
the fleet's comparison; an admin promotes it from the page after confirming, a viewer sees
it with no buttons.
Screenshots at desktop and tablet sizes go to ``$TWINSYNC_SCREENSHOTS`` if set, else to
pytest's temp folder."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from tests.server import free_port

from twinsync.cli.token_cmd import create_token
from twinsync.tokens import Role

from .layout import assert_panel_and_legend_fit
from .test_dashboard import NO_VALUE, require_chromium
from .test_maturity_view import DESKTOP, TABLET, choose, open_page
from .twin_server import ServerThread, seed

pytestmark = pytest.mark.browser

RED = "#e5484d"  # diverging, in twin_model.js
LEARNING = "#7d93b2"  # a model still learning, in twin_model.js
READINGS = 330
SHIFT_AT = 320
SPACING = 10.0


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


def post_shift(api: httpx.Client, sensor: str, base: float, shift: float, seed: int,
               noise: float = 0.05) -> np.ndarray:
    """``READINGS`` readings ``SPACING`` s apart ending now, ``shift`` added from
    ``SHIFT_AT``; their times."""
    times = time.time() - SPACING * (READINGS - np.arange(READINGS))
    values = base + np.random.default_rng(seed).normal(0.0, noise, READINGS)
    values[SHIFT_AT:] += shift
    answer = api.post("/api/readings", json=[
        {"sensor_id": sensor, "time": float(t), "value": round(float(v), 3)}
        for t, v in zip(times, values, strict=True)]).json()
    assert answer["accepted"] == READINGS, answer
    return times


@pytest.fixture(scope="module")
def site(api: httpx.Client) -> dict[str, Any]:
    slabs = sorted((e for e in api.get("/api/elements", params={"type": "IfcSlab"}).json()[
        "elements"] if e["sensors"]), key=lambda e: e["name"])
    slab = slabs[0]
    sensor = slab["sensors"][0]["id"]
    times = post_shift(api, sensor, 20.0, 0.5, seed=5)
    model = next(m for m in api.get(f"/api/elements/{slab['id']}/twin").json()["sensors"]
                 if m["sensor_id"] == sensor)
    assert model["state"] == "diverging", model
    return {"slab": slab, "slabs": slabs, "sensor": sensor, "times": times}


@pytest.fixture(scope="module")
def page(browser: Any, server: ServerThread, site: dict[str, Any]) -> Iterator[Any]:
    context, page, errors = open_page(browser, server, DESKTOP)
    yield page
    context.close()
    assert not errors, f"the page threw: {errors}"


def show_sensor(page: Any, slab: dict[str, Any], sensor: str) -> dict[str, Any]:
    """The slab's panel with ``sensor``'s chart, once its model's track is drawn."""
    choose(page, slab)
    page.locator(f'#panel [data-sensor="{sensor}"]').click()
    page.wait_for_function("""() => { const t = window.twinsync.chartTwin();
        return t && !t.loading && t.drawn && t.predicted > 0; }""", timeout=15_000)
    summary: dict[str, Any] = page.evaluate("window.twinsync.chartTwin()")
    return summary


def test_the_chart_draws_the_model_s_predictions_band_and_divergence(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab, sensor, times = site["slab"], site["sensor"], site["times"]
    summary = show_sensor(page, slab, sensor)
    end = time.time() + 1
    track = next(s for s in api.get(f"/api/elements/{slab['id']}/twin/track", params={
        "property": "core_temperature", "start": end - 3600, "end": end}).json()["sensors"]
        if s["sensor_id"] == sensor)
    # Every reading past the model's warm-up is predicted, with its band, on the chart.
    predicted = sum(v is not None for v in track["predicted"])
    assert predicted == READINGS - track["warming_up"] and track["warming_up"] == 32
    assert summary["predicted"] == predicted and summary["band"] == predicted
    # Before the shift the readings lie in the band (about 90 % of them).
    assert summary["inside"] >= 0.8 * (SHIFT_AT - 32)
    # One span, from the shift, still open: the logger is still diverging.
    assert len(summary["spans"]) == 1, (summary, track["divergences"])
    (span,) = summary["spans"]
    assert span[0] == pytest.approx(times[SHIFT_AT], abs=1.0) and span[1] is None
    # The same numbers as the server's: the chart's point at the newest reading.
    last = page.evaluate("""(time) => { const c = window.twinsync.chartPointOf(time);
        return c !== null; }""", float(times[-1]))
    assert last
    # The models of the slab's sensors: the logger diverging since the shift, the rest learning.
    row = page.locator(f'#panel [data-sensor-model="{sensor}"]')
    row.wait_for(timeout=10_000)
    assert row.get_attribute("data-state") == "diverging"
    assert row.locator('[data-role="twin-state"]').text_content() == "diverging"
    detail = row.locator('[data-role="twin-detail"]').text_content() or ""
    model = next(m for m in api.get(f"/api/elements/{slab['id']}/twin").json()["sensors"]
                 if m["sensor_id"] == sensor)
    shown = re.search(r"level (\S+) ± ", detail)
    assert detail.startswith("since ") and shown, detail
    assert float(shown.group(1)) == pytest.approx(model["level"], abs=0.01)
    assert model["level"] == pytest.approx(20.5, abs=0.1)
    others = page.locator('#panel [data-sensor-model]:not([data-state="diverging"])')
    assert others.count() == len(slab["sensors"]) - 1
    assert all(s == "learning" for s in others.evaluate_all(
        "(rows) => rows.map((r) => r.dataset.state)"))
    page.locator("#panel .chart").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "twin_chart_desktop.png"))
    # Over a day the chart draws two-minute buckets: the track comes in the same buckets.
    page.locator('#panel [data-window="24 h"]').click()
    page.wait_for_function("""(n) => { const t = window.twinsync.chartTwin();
        return t && !t.loading && t.drawn && t.predicted > 0 && t.predicted < n; }""",
        arg=predicted,
        timeout=15_000)
    day = page.evaluate("window.twinsync.chartTwin()")
    buckets = (READINGS - 32) * SPACING / 120
    assert buckets - 2 <= day["predicted"] <= buckets + 2 and day["band"] == day["predicted"]
    assert len(day["spans"]) == 1
    page.locator("#panel .chart").screenshot(path=str(shots / "twin_chart_24h.png"))
    page.locator('#panel [data-window="1 h"]').click()


def test_the_twin_colour_mode_colours_by_the_worst_sensor_and_follows_a_divergence_live(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab, slabs = site["slab"], site["slabs"]
    reads = page.evaluate("window.twinsync.twin.reads")
    assert reads == 0  # nothing is read before the mode is chosen
    page.select_option("#color-mode", "@twin")
    page.wait_for_function("(id) => window.twinsync.colorOf(id) === '#e5484d'", arg=slab["id"],
                           timeout=10_000)
    assert all(page.evaluate("(id) => window.twinsync.colorOf(id)", s["id"]) == LEARNING
               for s in slabs[1:])
    wall = api.get("/api/elements", params={"type": "IfcWall"}).json()["elements"][0]
    assert page.evaluate("(id) => window.twinsync.colorOf(id)", wall["id"]) == NO_VALUE
    legend = page.locator("#legend")
    assert legend.locator('[data-twin-state="diverging"] b').text_content() == "1"
    assert "with a sensor model" in (legend.locator(".note").text_content() or "")
    page.screenshot(path=str(shots / "twin_colour_mode_desktop.png"))
    # A column's strain gauge parts from its model while the page is open: it turns red
    # from the delta's event, without a reload.
    column = next(e for e in api.get("/api/elements", params={"type": "IfcColumn"}).json()[
        "elements"] if e["sensors"])
    assert page.evaluate("(id) => window.twinsync.colorOf(id)", column["id"]) == LEARNING
    post_shift(api, column["sensors"][0]["id"], 120.0, 30.0, seed=6, noise=1.0)
    page.wait_for_function("(id) => window.twinsync.colorOf(id) === '#e5484d'",
                           arg=column["id"], timeout=10_000)
    assert legend.locator('[data-twin-state="diverging"] b').text_content() == "2"
    page.select_option("#color-mode", "status")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_the_panel_and_legend_fit_at_desktop_and_tablet_sizes(
        browser: Any, server: ServerThread, site: dict[str, Any], shots: Path, size: str) -> None:
    context, page, errors = open_page(browser, server, DESKTOP if size == "desktop" else TABLET)
    try:
        show_sensor(page, site["slab"], site["sensor"])
        page.select_option("#color-mode", "@twin")
        page.wait_for_function("(id) => window.twinsync.colorOf(id) === '#e5484d'",
                               arg=site["slab"]["id"], timeout=10_000)
        page.wait_for_timeout(300)
        page.screenshot(path=str(shots / f"twin_{size}.png"))
        page.locator('#panel [data-role="twin"]').scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"twin_{size}_panel.png"))
        assert_panel_and_legend_fit(page, '[data-role="twin"] *, .chart *')
    finally:
        context.close()
    assert not errors, f"the page threw: {errors}"


SHADOW = '#panel [data-role="shadow"]'


def test_a_running_shadow_is_compared_per_sensor_and_fleet_wide_and_promoted_from_the_page(
        page: Any, api: httpx.Client, site: dict[str, Any], shots: Path) -> None:
    slab, slabs = site["slab"], site["slabs"]
    started = api.post("/api/twin/shadow", json={"parameters": {"threshold": 12, "rate": 0.02}})
    assert started.status_code == 201, started.text
    # A logger of the slab reports an hour after the shadow started: both models predict it.
    logger = slab["sensors"][1]["id"]
    post_shift(api, logger, 21.0, 0.0, seed=7)
    choose(page, slabs[1])  # the panel reads the models of an element when it is chosen
    choose(page, slab)
    line = page.locator(f'#panel [data-sensor-model="{logger}"] [data-role="twin-shadow"]')
    line.wait_for(timeout=10_000)
    model = next(m for m in api.get(f"/api/elements/{slab['id']}/twin").json()["sensors"]
                 if m["sensor_id"] == logger)
    comparison = model["shadow"]["comparison"]
    assert comparison["readings"] > 200
    shown = re.fullmatch(r"shadow RMS (\S+) vs live (\S+) °C · calibration (\S+) vs (\S+)"
                         r" · (\S+) readings", line.text_content() or "")
    assert shown, line.text_content()
    assert float(shown.group(1)) == pytest.approx(comparison["shadow"]["rms"], rel=5e-3)
    assert float(shown.group(2)) == pytest.approx(comparison["live"]["rms"], rel=5e-3)
    assert float(shown.group(3)) == pytest.approx(comparison["shadow"]["calibration"], rel=5e-3)
    assert int(shown.group(5).replace(",", "")) == comparison["readings"]
    fleet = api.get("/api/twin/shadow").json()
    block = page.locator(SHADOW)
    assert "rate 0.02 · threshold 12" in (block.text_content() or "")
    assert f"on {fleet['comparison']['sensors_compared']} sensor" in (
        block.text_content() or "")
    for size, viewport in (("desktop", DESKTOP), ("tablet", TABLET)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(300)
        block.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / f"shadow_{size}.png"))
    page.set_viewport_size(DESKTOP)

    # Promote asks first; Cancel sends nothing.
    block.locator('button[data-shadow="promote"]').click()
    assert "Make the shadow live?" in (page.text_content('[data-role="shadow-confirm"]') or "")
    block.locator('button[data-shadow="cancel"]').click()
    assert page.locator('[data-role="shadow-confirm"]').count() == 0
    assert api.get("/api/twin/shadow").json()["shadow"] is not None
    block.locator('button[data-shadow="promote"]').click()
    block.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "shadow_confirm_desktop.png"))
    block.locator('button[data-shadow="confirm"]').click()
    said = page.locator('#panel [data-role="shadow-said"].ok')
    said.wait_for(timeout=10_000)
    assert said.text_content() == "Promoted: rate 0.02 · threshold 12 now live."
    after = api.get("/api/twin/shadow").json()
    assert after["shadow"] is None
    assert (after["live"]["parameters"]["threshold"], after["live"]["parameters"]["rate"]) == (
        12, 0.02)
    page.wait_for_selector(SHADOW, state="detached", timeout=10_000)
    assert page.locator('#panel [data-role="twin-shadow"]').count() == 0
    page.screenshot(path=str(shots / "shadow_promoted_desktop.png"))


def test_a_viewer_sees_the_shadow_s_comparison_but_no_promote_or_stop(
        browser: Any, api: httpx.Client, server: ServerThread, site: dict[str, Any],
        shots: Path) -> None:
    assert api.post("/api/twin/shadow", json={"parameters": {"threshold": 10}}).status_code == 201
    viewer, _ = create_token(server.store, "site visitor", Role.VIEWER)
    context = browser.new_context(viewport=TABLET, locale="en-GB", timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.url}/login#token={viewer}")
        page.wait_for_url(f"{server.url}/", timeout=10_000)
        page.wait_for_function("window.twinsync && window.twinsync.connection === 'live'",
                               timeout=15_000)
        choose(page, site["slab"])
        block = page.locator(SHADOW)
        block.wait_for(timeout=10_000)
        page.wait_for_function("(s) => document.querySelector(s)?.textContent"
                               ".includes('operators and admins')", arg=SHADOW, timeout=5_000)
        assert block.locator("button").count() == 0
        block.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "shadow_viewer_tablet.png"))
    finally:
        context.close()
        assert api.delete("/api/twin/shadow").status_code == 200
    assert not errors, f"the page threw: {errors}"


ZONE = '#panel [data-role="zone"]'


def post_room_day(api: httpx.Client, room: dict[str, Any]) -> None:
    """A day of quarter-hourly readings ending now of the room's air temperature and of the
    site's weather station (the room's outdoor input), as a gateway would send them."""
    zone = api.get(f"/api/elements/{room['id']}/zone").json()
    assert zone["modelled"], zone
    station = api.get(f"/api/elements/{zone['outdoor']['element_id']}").json()
    outdoor = next(s["id"] for s in station["sensors"]
                   if s["binding"]["property"] == zone["outdoor"]["property"])
    times = time.time() - 900.0 * (96 - np.arange(96))
    hours = (times - times[0]) / 3600.0
    weather = 5.0 + 4.0 * np.sin(2 * np.pi * hours / 24.0)
    # A room that heating no meter reads holds 14 K above the weather, its time constant
    # 30 h (the heat gain of a zone without a heating meter), read to 0.01 K.
    air = np.empty(hours.size)
    air[0] = 19.0
    for k in range(1, hours.size):
        air[k] = air[k - 1] + (weather[k - 1] + 14.0 - air[k - 1]) * 0.25 / 30.0
    readings = [{"sensor_id": sensor, "time": float(t), "value": round(float(v), 2)}
                for t, w, a in zip(times, weather, air, strict=True)
                for sensor, v in ((outdoor, w), (zone["sensors"][0], a))]
    assert api.post("/api/readings", json=readings).json()["accepted"] == len(readings)


def test_a_room_s_panel_shows_its_thermal_zone_and_a_room_declared_none_says_so(
        browser: Any, api: httpx.Client, server: ServerThread, shots: Path) -> None:
    rooms = sorted(api.get("/api/elements", params={"type": "IfcSpace"}).json()["elements"],
                   key=lambda e: e["name"])
    room, other = rooms[0], rooms[1]
    post_room_day(api, room)
    assert api.patch(f"/api/elements/{other['id']}",
                     json={"properties": {"thermal_zone": False}}).status_code == 200
    context, page, errors = open_page(browser, server, DESKTOP)
    try:
        choose(page, room)
        page.wait_for_function("(s) => document.querySelector(s + ' [data-role=zone-tau]')"
                               "?.textContent.includes('h')", arg=ZONE, timeout=10_000)
        served = api.get(f"/api/elements/{room['id']}/zone", params={"hours": 6}).json()
        state = page.text_content(f'{ZONE} [data-role="zone-state"]') or ""
        assert state == {"learning": "learning", "in_control": "in control"}[
            served["divergence"]["state"]]
        # Figures are written to their deviation's precision (format.js ``withSpread``,
        # tested in Node): the served ones, so written, are what the panel shows.
        def written(mean: float, sd: float) -> list[str]:
            return list(page.evaluate(
                "async ([m, s]) => (await import('/static/js/format.js')).withSpread(m, s)",
                [mean, sd]))

        shown = page.text_content(f'{ZONE} [data-role="zone-temperature"]') or ""
        mean, sd = written(served["temperature"], served["temperature_sd"])
        assert shown.startswith(f"{mean} ± {sd} °C"), shown
        assert "not told apart without a heating meter" in (
            page.text_content(f'{ZONE} [data-role="zone-r"]') or "")
        forecast = page.text_content(f'{ZONE} [data-role="zone-forecast"]') or ""
        assert "90 %" in forecast and "outdoors" in forecast
        # The heat gain: what the room holds above what the outdoors explain, with its sd
        # (here the heating no meter reads, about 14 K), and how well the room fits.
        gain = page.text_content(f'{ZONE} [data-role="zone-gain"]') or ""
        assert 8.0 < served["gain"] < 20.0, served["gain"]
        held, spread = written(abs(served["gain"]), served["gain_sd"])
        assert gain.startswith(f"holds {held} ± {spread} K"), gain
        assert "K above what outdoors explains (no heating meter)" in gain
        assert "the variance it claims" in gain
        page.locator(ZONE).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "zone_desktop.png"))
        page.set_viewport_size(TABLET)
        page.wait_for_timeout(300)
        page.locator(ZONE).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "zone_tablet.png"))
        # A room taken out by its thermal_zone property: the section says why, nothing else.
        choose(page, other)
        page.wait_for_function(
            "(s) => document.querySelector(s + ' [data-role=zone-reason]')?.textContent"
            ".includes('its thermal_zone property is false')", arg=ZONE, timeout=10_000)
        # A slab is no room: no zone section at all.
        slab = next(e for e in api.get("/api/elements", params={"type": "IfcSlab"}).json()[
            "elements"] if e["sensors"])
        choose(page, slab)
        page.wait_for_function("(s) => !document.querySelector(s)", arg=ZONE, timeout=5_000)
    finally:
        context.close()
        # The module's server is shared: the room is a zone again for what runs after.
        api.patch(f"/api/elements/{other['id']}", json={"properties": {"thermal_zone": True}})
    assert not errors, f"the page threw: {errors}"
