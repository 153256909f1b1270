"""The schedule in the dashboard, in headless Chromium against a real server: the Gantt of
the demo building's schedule (``site_schedule.py``, dated around today) with its WBS,
bars and critical path; an activity chosen in the Gantt selects its elements in the model,
an element chosen in the model marks its activities; the 4D slider shows the model as
built and as planned on a date, plays, and hides what is not yet built; the page at
desktop and tablet sizes; and a 4,000-activity schedule drawn without freezing the page.

Screenshots and the measured figures go to ``$TWINSYNC_SCREENSHOTS`` if set, else to
pytest's temp folder.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server import free_port

from twinsync.schedule.generate import generate_xer

from .site_schedule import first_monday, import_site_schedule, work_day
from .test_dashboard import open_page, pick_in_3d, require_chromium
from .twin_server import ServerThread, seed

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 1024, "height": 768}
# The standings' colours and the critical path's, in gantt.js.
AHEAD, ON_TRACK, BEHIND = "#4ea1ff", "#3fb66b", "#e5484d"
CRITICAL = "#ff9d2e"
# Worked out by hand from site_schedule.py: the chain of slabs and columns up the
# storeys, then the top storey's walls and windows and the milestone. L0's slab and
# columns are complete (no float left to speak of), the lower storeys' walls have float.
CRITICAL_PATH = {"L1-SLAB", "L1-COL", "L2-SLAB", "L2-COL", "L3-SLAB", "L3-COL", "L3-WALL",
                 "L3-WIN", "TOP"}
SCROLLER = "#schedule .gantt-scroll"
SLIDER = '#schedule [data-role="slider"]'


@pytest.fixture(scope="module")
def start() -> datetime:
    return first_monday()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    thread = ServerThread(seed(tmp_path_factory.mktemp("twin")), free_port())
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="module")
def api(server: ServerThread, start: datetime) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30.0, headers=server.headers) as client:
        import_site_schedule(client, start)
        yield client


@pytest.fixture(scope="module")
def page(browser: Any, server: ServerThread, api: httpx.Client) -> Iterator[Any]:
    page, errors = open_page(browser, server)
    page.set_viewport_size(DESKTOP)
    page.wait_for_function("window.twinsync.firstRenderMs !== null", timeout=15_000)
    yield page
    page.close()
    assert not errors, f"the page threw: {errors}"


@pytest.fixture(scope="module")
def links(api: httpx.Client) -> dict[str, list[str]]:
    """Each activity's elements, as the server links them."""
    states = api.get("/api/schedule/elements").json()
    return {code: activity["elements"] for code, activity in states["activities"].items()}


def open_schedule(page: Any) -> None:
    if page.get_attribute("#schedule-toggle", "aria-pressed") != "true":
        page.click("#schedule-toggle")
    page.wait_for_function("window.twinsync.schedule.loaded", timeout=20_000)


def box_of(page: Any, code: str) -> dict[str, Any]:
    """An activity's row and bars on the page, scrolled into view and drawn."""
    page.evaluate("(code) => window.twinsync.schedule.reveal(code)", code)
    page.evaluate("window.twinsync.schedule.drawNow()")
    box = page.evaluate("(code) => window.twinsync.schedule.boxOf(code)", code)
    assert box is not None, f"{code} is not in view"
    return dict(box)


def canvas_colors(page: Any, x: float, y: float, width: int = 1) -> list[str]:
    """The Gantt canvas's colours at a page point and the `width` - 1 pixels right of it."""
    return list(page.evaluate("""([x, y, width]) => {
        const canvas = document.querySelector('#schedule .gantt canvas');
        const rect = canvas.getBoundingClientRect();
        const ratio = canvas.width / rect.width;
        const data = canvas.getContext('2d').getImageData(Math.round((x - rect.left) * ratio),
            Math.round((y - rect.top) * ratio), Math.max(1, Math.round(width * ratio)), 1).data;
        const colours = [];
        for (let i = 0; i < data.length; i += 4) {
            colours.push('#' + [data[i], data[i + 1], data[i + 2]]
                .map((v) => v.toString(16).padStart(2, '0')).join(''));
        }
        return colours;
    }""", [x, y, width]))


def near(colour: str, wanted: str, tolerance: int = 24) -> bool:
    channels = [(int(colour[i:i + 2], 16), int(wanted[i:i + 2], 16)) for i in (1, 3, 5)]
    return all(abs(a - b) <= tolerance for a, b in channels)


def set_day(page: Any, start: datetime, day: date) -> None:
    """Move the slider to a day, as dragging it does, and wait for the model to follow."""
    index = (day - start.date()).days
    page.eval_on_selector(SLIDER, """(slider, value) => {
        slider.value = String(value);
        slider.dispatchEvent(new Event('input', { bubbles: true }));
    }""", index)
    wait_for_day(page, start, index)


def wait_for_day(page: Any, start: datetime, index: int) -> None:
    shown = datetime(start.year, start.month, start.day, 23, 59).timestamp() * 1000
    page.wait_for_function("""([base, index]) => {
        const shown = window.twinsync.schedule.shownDate;
        const wanted = new Date(base);
        wanted.setDate(wanted.getDate() + index);
        return shown === wanted.getTime();
    }""", arg=[shown, index], timeout=10_000)


def colour_and_style(page: Any, element_id: str) -> tuple[str, str]:
    found = page.evaluate("(id) => [window.twinsync.colorOf(id), window.twinsync.styleOf(id)]",
                          element_id)
    return found[0], found[1]


def test_the_gantt_shows_the_schedule_under_its_wbs_with_the_critical_path(
        page: Any, api: httpx.Client, shots: Path) -> None:
    open_schedule(page)
    overview = api.get("/api/schedule").json()
    # 17 activities under 5 WBS rows (the building and its four storeys)
    assert page.evaluate("window.twinsync.schedule.rowCount") == 17 + 5
    critical = {a["id"] for a in overview["activities"] if a["critical"]}
    assert critical == CRITICAL_PATH
    for activity in overview["activities"]:
        box = box_of(page, activity["id"])
        assert box["critical"] == activity["critical"], activity["id"]
        assert box["standing"] == activity["variance"]["standing"], activity["id"]
        assert box["planned"] is not None, activity["id"]

    # The bars are drawn in their standing's colour: L0's slab finished on plan, its
    # columns a day early; L1's slab, half done, stopped (behind), outlined as critical.
    slab = box_of(page, "L0-SLAB")
    assert slab["done"] and slab["todo"] is None  # complete: nothing left to do
    assert near(canvas_colors(page, slab["done"]["x"] + 3, slab["done"]["y"] + 3)[0], ON_TRACK)
    columns = box_of(page, "L0-COL")
    assert near(canvas_colors(page, columns["done"]["x"] + 2, columns["done"]["y"] + 3)[0],
                AHEAD)
    late = box_of(page, "L1-SLAB")
    assert late["done"] and late["todo"]  # started, and a forecast of the rest
    assert near(canvas_colors(page, late["done"]["x"] + 4, late["done"]["y"] + 3)[0], BEHIND)
    edge = canvas_colors(page, late["done"]["x"] - 4, late["done"]["y"] + late["done"]["h"] / 2,
                         width=5)
    assert any(near(colour, CRITICAL, 40) for colour in edge), edge
    walls = box_of(page, "L0-WALL")  # not critical: no outline
    edge = canvas_colors(page, walls["todo"]["x"] - 4,
                         walls["todo"]["y"] + walls["todo"]["h"] / 2, width=5)
    assert not any(near(colour, CRITICAL, 40) for colour in edge), edge
    # The planned bar sits above, where the plan put it: L1's slab was to start on day 8.
    planned_start = datetime.strptime(
        next(a for a in overview["activities"] if a["id"] == "L1-SLAB")["planned_start"],
        "%Y-%m-%d %H:%M")
    assert planned_start == work_day(first_monday(), 8)
    assert late["planned"]["x"] < late["done"]["x"] + 1  # it started no earlier than planned

    page.screenshot(path=str(shots / "gantt_desktop.png"))
    # The critical path alone: its nine activities and the WBS rows that hold them.
    page.click('#schedule [data-role="critical"]')
    assert page.evaluate("window.twinsync.schedule.rowCount") == 9 + 4
    page.click('#schedule [data-role="critical"]')
    assert page.evaluate("window.twinsync.schedule.rowCount") == 17 + 5


def test_a_wbs_row_folds_and_unfolds_its_activities(page: Any, api: httpx.Client,
                                                    links: dict[str, list[str]]) -> None:
    open_schedule(page)
    page.evaluate(f"document.querySelector('{SCROLLER}').scrollTop = 0")
    page.evaluate("window.twinsync.schedule.drawNow()")
    storey = box_of(page, "L0-SLAB")  # the row above it is its storey's
    fold = (storey["label"]["x"] + 30, storey["row"]["y"] - storey["row"]["h"] / 2)
    page.mouse.click(*fold)
    page.wait_for_function("window.twinsync.schedule.rowCount === 18")
    page.mouse.click(*fold)
    page.wait_for_function("window.twinsync.schedule.rowCount === 22")
    # Folded, it opens again by itself to show the activity of an element chosen elsewhere.
    page.mouse.click(*fold)
    page.wait_for_function("window.twinsync.schedule.rowCount === 18")
    slab = links["L0-SLAB"][0]
    page.fill("#tree-search", api.get(f"/api/elements/{slab}").json()["name"])
    page.locator(f'#tree .leaf[data-id="{slab}"]').click()
    page.wait_for_function("window.twinsync.schedule.rowCount === 22")
    assert page.evaluate("window.twinsync.schedule.boxOf('L0-SLAB')") is not None
    page.fill("#tree-search", "")
    page.locator("#tree-search").blur()
    page.keyboard.press("Escape")


def test_choosing_an_activity_selects_its_elements_in_the_model(
        page: Any, links: dict[str, list[str]], api: httpx.Client, shots: Path) -> None:
    open_schedule(page)
    box = box_of(page, "L1-COL")
    page.mouse.click(box["label"]["x"] + 60, box["label"]["y"])
    page.wait_for_function("window.twinsync.schedule.selected === 'L1-COL'")
    chosen = page.evaluate("window.twinsync.activityElements")
    assert chosen == sorted(links["L1-COL"]) and len(chosen) == 20
    assert all(page.evaluate("(id) => window.twinsync.isHighlighted(id)", element)
               for element in chosen)
    assert {colour_and_style(page, element)[1] for element in chosen} == {"solid"}
    # Everything else steps back.
    wall = links["L1-WALL"][0]
    assert colour_and_style(page, wall)[1] == "faded"
    assert not page.evaluate("(id) => window.twinsync.isHighlighted(id)", wall)
    # The side panel shows the activity: its standing and its elements.
    page.wait_for_selector("#panel [data-element]", timeout=10_000)
    assert (page.text_content("#panel h2") or "").startswith("L1-COL · Columns Level 1")
    assert "Behind by" in (page.text_content('#panel [data-role="standing"]') or "")
    assert page.locator("#panel [data-element]").count() == 20
    page.screenshot(path=str(shots / "gantt_activity_chosen.png"))

    # One of its elements, chosen from that list, is selected; its panel lists its
    # activity, and choosing that brings the activity back.
    element = chosen[3]
    page.click(f'#panel [data-element="{element}"]')
    page.wait_for_function("(id) => window.twinsync.selectedId === id", arg=element)
    assert page.evaluate("window.twinsync.activityElements") == []
    assert page.evaluate("window.twinsync.schedule.marked") == ["L1-COL"]
    page.screenshot(path=str(shots / "element_activities.png"))
    page.click('#panel [data-activity="L1-COL"]')
    page.wait_for_function("window.twinsync.schedule.selected === 'L1-COL'")
    assert page.evaluate("window.twinsync.selectedId") is None
    assert len(page.evaluate("window.twinsync.activityElements")) == 20

    # Chosen again, or Escape: the model is itself again.
    page.keyboard.press("Escape")
    page.wait_for_function("window.twinsync.activityElements.length === 0")
    assert colour_and_style(page, wall)[1] == "solid"
    assert not page.evaluate("(id) => window.twinsync.isHighlighted(id)", chosen[0])

    # The milestone builds nothing: the panel says so, the model stays as it is, and Esc
    # ends its choice all the same.
    top = box_of(page, "TOP")
    page.mouse.click(top["label"]["x"] + 60, top["label"]["y"])
    page.wait_for_selector("#panel .identity h2:has-text('TOP')", timeout=10_000)
    assert "No element is linked" in (page.text_content("#panel") or "")
    assert colour_and_style(page, wall)[1] == "solid"
    page.keyboard.press("Escape")
    page.wait_for_function("window.twinsync.schedule.selected === null")
    assert "Select an element" in (page.text_content("#panel") or "")


def test_choosing_an_element_marks_its_activities_in_the_gantt(
        page: Any, api: httpx.Client, links: dict[str, list[str]]) -> None:
    open_schedule(page)
    storeys = {s["name"]: s["id"] for s in api.get("/api/project").json()["storeys"]}
    columns = [c for c in api.get("/api/elements", params={"type": "IfcColumn"}).json()["elements"]
               if c["storey"] == storeys["Level 2"]]
    column = pick_in_3d(page, columns, "column of Level 2")
    page.wait_for_function("window.twinsync.schedule.marked.join() === 'L2-COL'")
    assert page.evaluate("window.twinsync.schedule.boxOf('L2-COL')") is not None  # in view
    # From the tree too: a slab of Level 0, whose activity is off the critical path, so
    # showing it ends the critical-path filter.
    page.click('#schedule [data-role="critical"]')
    assert page.evaluate("window.twinsync.schedule.boxOf('L0-SLAB')") is None
    slab = links["L0-SLAB"][0]
    page.fill("#tree-search", api.get(f"/api/elements/{slab}").json()["name"])
    page.locator(f'#tree .leaf[data-id="{slab}"]').click()
    page.wait_for_function("window.twinsync.schedule.marked.join() === 'L0-SLAB'")
    assert page.evaluate("window.twinsync.schedule.boxOf('L0-SLAB')") is not None
    assert page.get_attribute('#schedule [data-role="critical"]', "aria-pressed") == "false"
    page.fill("#tree-search", "")
    page.locator("#tree-search").blur()
    assert column["id"] in links["L2-COL"]
    page.keyboard.press("Escape")
    page.wait_for_function("window.twinsync.schedule.marked.length === 0")


def test_the_slider_shows_the_model_as_built_and_as_planned_on_a_date(
        page: Any, start: datetime, links: dict[str, list[str]], shots: Path) -> None:
    open_schedule(page)
    slab0, column0, wall0 = links["L0-SLAB"][0], links["L0-COL"][0], links["L0-WALL"][0]
    slab1 = links["L1-SLAB"][0]
    assert not page.evaluate("window.twinsync.schedule.fourD")

    # The first day: nothing reported yet, so nothing built; the plan had begun L0's slab
    # (a day's work of five) and, with nothing done, it is behind.
    set_day(page, start, start.date())
    assert page.evaluate("window.twinsync.schedule.fourD")
    assert colour_and_style(page, slab0) == ("#5d6878", "faded")
    page.click('#schedule [data-mode="planned"]')
    page.wait_for_function("(id) => window.twinsync.styleOf(id) === 'solid'", arg=slab0)
    assert colour_and_style(page, slab0) == (BEHIND, "solid")
    assert colour_and_style(page, column0)[1] == "faded"  # its columns come after it

    # Day 6: L0's slab done on plan, its columns done a day early; its walls not planned
    # before day 8.
    page.click('#schedule [data-mode="built"]')
    set_day(page, start, work_day(start, 6).date())
    assert colour_and_style(page, slab0) == (ON_TRACK, "solid")
    assert colour_and_style(page, column0) == (AHEAD, "solid")
    assert colour_and_style(page, wall0)[1] == "faded"
    page.click('#schedule [data-mode="planned"]')
    page.wait_for_function("(id) => window.twinsync.colorOf(id) === '#5d6878'", arg=wall0)
    assert colour_and_style(page, slab0) == (ON_TRACK, "solid")

    # Today: L1's slab is half built and stopped: behind, built or planned.
    page.click('#schedule [data-mode="built"]')
    set_day(page, start, date.today())
    assert colour_and_style(page, slab1) == (BEHIND, "solid")
    assert colour_and_style(page, wall0)[1] == "faded"  # planned, never built
    legend = page.text_content("#legend") or ""
    assert "as built" in legend and date.today().isoformat() in legend
    page.screenshot(path=str(shots / "4d_desktop.png"))

    # What is not yet built can be hidden rather than ghosted.
    page.select_option('#schedule [data-role="not-yet"]', "hidden")
    page.wait_for_function("(id) => !window.twinsync.isVisible(id)", arg=wall0)
    assert page.evaluate("(id) => window.twinsync.isVisible(id)", slab1)
    page.select_option('#schedule [data-role="not-yet"]', "ghosted")
    page.wait_for_function("(id) => window.twinsync.isVisible(id)", arg=wall0)


def test_the_slider_steps_by_key_and_plays(page: Any, start: datetime) -> None:
    open_schedule(page)
    set_day(page, start, start.date())
    page.focus(SLIDER)
    page.keyboard.press("ArrowRight")
    wait_for_day(page, start, 1)
    page.click('#schedule [data-role="play"]')
    page.wait_for_function(f"""window.twinsync.schedule.shownDate >
        new Date({start.year}, {start.month - 1}, {start.day + 3}).getTime()""", timeout=10_000)
    page.click('#schedule [data-role="play"]')  # pause
    assert page.get_attribute('#schedule [data-role="play"]', "aria-label") == "Play"
    paused = page.evaluate("window.twinsync.schedule.shownDate")
    page.wait_for_timeout(700)
    assert page.evaluate("window.twinsync.schedule.shownDate") == paused


def test_leaving_4d_gives_the_model_its_status_colours_back(
        page: Any, links: dict[str, list[str]]) -> None:
    open_schedule(page)
    if not page.evaluate("window.twinsync.schedule.fourD"):
        page.click('#schedule [data-role="fourd"]')
    page.click('#schedule [data-role="fourd"]')
    page.wait_for_function("!window.twinsync.schedule.fourD")
    slab = links["L0-SLAB"][0]
    assert colour_and_style(page, slab) == ("#3fb66b", "solid")  # completed, by status
    assert "Status" in (page.text_content("#legend .title") or "")


def test_progress_reported_elsewhere_reaches_the_open_gantt(page: Any, api: httpx.Client,
                                                             start: datetime) -> None:
    open_schedule(page)
    assert box_of(page, "L1-COL")["done"] is None  # not started
    answer = api.post("/api/schedule/activities/L1-COL/progress", json={
        "percent_complete": 10, "date": (date.today().isoformat() + " 00:00")})
    answer.raise_for_status()
    page.wait_for_function("""() => { window.twinsync.schedule.reveal('L1-COL');
        return window.twinsync.schedule.boxOf('L1-COL')?.done !== null; }""", timeout=10_000)


def test_the_schedule_fits_a_tablet_and_a_desktop(browser: Any, server: ServerThread,
                                                  api: httpx.Client, start: datetime,
                                                  shots: Path) -> None:
    for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
        # The tablet is a touch screen: its taps are the test's, not a mouse's clicks.
        context = browser.new_context(viewport=size, has_touch=name == "tablet")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.goto(f"{server.url}/login#token={server.token}")
        page.wait_for_url(f"{server.url}/", timeout=10_000)
        try:
            page.wait_for_function("window.twinsync.firstRenderMs !== null", timeout=15_000)
            open_schedule(page)
            set_day(page, start, date.today())
            page.wait_for_timeout(300)
            page.screenshot(path=str(shots / f"schedule_{name}.png"))
            gantt = page.locator("#schedule .gantt").bounding_box()
            model = page.locator(".viewport").bounding_box()
            slider = page.locator(SLIDER).bounding_box()
            assert gantt is not None and model is not None and slider is not None
            assert gantt["x"] + gantt["width"] <= size["width"] + 1
            assert gantt["height"] >= 150 and model["height"] >= 200
            assert slider["width"] >= 120 and slider["x"] + slider["width"] <= size["width"]
            assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
            sign_out = page.locator("#sign-out").bounding_box()
            assert sign_out is not None and sign_out["x"] + sign_out["width"] <= size["width"]
            # Rows are tall enough to tap, and the names column leaves the bars room.
            box = box_of(page, "L1-SLAB")
            assert box["row"]["h"] >= 24 and box["done"]["x"] > box["label"]["x"] + 100
            if name == "tablet":
                page.touchscreen.tap(box["label"]["x"] + 60, box["label"]["y"])
                page.wait_for_function("window.twinsync.schedule.selected === 'L1-SLAB'")
                assert len(page.evaluate("window.twinsync.activityElements")) == 2
                # Two fingers spread apart over the chart zoom its time axis in.
                before = page.evaluate("window.twinsync.schedule.dayPx")
                touch = page.context.new_cdp_session(page)
                y = box["row"]["y"] + box["row"]["h"] / 2
                middle = box["row"]["x"] + box["row"]["w"] * 0.65
                for kind, gap in (("touchStart", 40), ("touchMove", 80), ("touchMove", 120),
                                  ("touchEnd", 120)):
                    points = [] if kind == "touchEnd" else [
                        {"x": middle - gap / 2, "y": y, "id": 1},
                        {"x": middle + gap / 2, "y": y, "id": 2}]
                    touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
                after = page.evaluate("window.twinsync.schedule.dayPx")
                assert after == pytest.approx(before * 3, rel=0.05)
                # The keyboard: down from the chosen activity chooses the next one.
                page.focus(SCROLLER)
                page.keyboard.press("ArrowDown")
                page.wait_for_function("window.twinsync.schedule.selected === 'L1-COL'")
                page.wait_for_timeout(300)
                page.screenshot(path=str(shots / f"schedule_{name}_activity.png"))
        finally:
            context.close()
        assert not errors, f"the page threw at {name} size: {errors}"


def test_a_twin_without_a_schedule_says_how_to_import_one(browser: Any,
                                                           tmp_path: Path) -> None:
    server = ServerThread(f"sqlite:///{tmp_path / 'plain.sqlite'}", free_port())
    server.start()
    try:
        page, errors = open_page(browser, server)
        page.click("#schedule-toggle")
        page.wait_for_selector('#schedule [data-role="message"]:not([hidden])', timeout=10_000)
        message = page.text_content('#schedule [data-role="message"]') or ""
        assert "twinsync schedule import" in message
        assert page.is_hidden("#schedule .playback")  # nothing to play
        page.close()
        assert not errors, errors
    finally:
        server.stop()


def test_a_4000_activity_schedule_is_drawn_without_freezing_the_page(
        browser: Any, tmp_path: Path, shots: Path) -> None:
    server = ServerThread(f"sqlite:///{tmp_path / 'big.sqlite'}", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers=server.headers, timeout=60) as client:
            client.post("/api/schedules", params={"name": "bench.xer"},
                        content=generate_xer(4000, 6000, seed=0),
                        headers={"content-type": "application/octet-stream"}
                        ).raise_for_status()
        page, errors = open_page(browser, server)
        try:
            page.set_viewport_size(DESKTOP)
            # The longest the main thread is held, while the schedule loads and draws.
            page.evaluate("""() => {
                window.longestTask = 0;
                new PerformanceObserver((list) => {
                    for (const entry of list.getEntries()) {
                        window.longestTask = Math.max(window.longestTask, entry.duration);
                    }
                }).observe({ type: 'longtask', buffered: false });
            }""")
            # The observer works here: a task of 120 ms is seen.
            page.evaluate("() => setTimeout(() => { const end = performance.now() + 120; "
                          "while (performance.now() < end); }, 0)")
            page.wait_for_function("window.longestTask >= 100", timeout=5_000)
            page.evaluate("window.longestTask = 0")
            began = time.monotonic()
            page.click("#schedule-toggle")
            page.wait_for_function("window.twinsync.schedule.loaded", timeout=60_000)
            loaded_s = time.monotonic() - began
            rows = page.evaluate("window.twinsync.schedule.rowCount")
            render_ms = page.evaluate("window.twinsync.schedule.renderMs")
            # Scrolled to the end, a frame still draws only the rows in view.
            page.evaluate(f"""() => {{ const s = document.querySelector('{SCROLLER}');
                s.scrollTop = s.scrollHeight; }}""")
            draws = [page.evaluate("window.twinsync.schedule.drawNow()") for _ in range(5)]
            longest = page.evaluate("window.longestTask")
            # One date of the 4D playback: the server's states of every activity.
            page.click('#schedule [data-role="fourd"]')
            page.wait_for_function("window.twinsync.schedule.lastFetchMs !== null",
                                   timeout=30_000)
            fetch_ms = page.evaluate("window.twinsync.schedule.lastFetchMs")
            page.screenshot(path=str(shots / "gantt_4000.png"))
            figures = {"activities": 4000, "rows": rows, "open_to_drawn_s": round(loaded_s, 2),
                       "build_and_first_draw_ms": round(render_ms, 1),
                       "scrolled_draw_ms": round(min(draws), 2),
                       "longest_main_thread_task_ms": round(longest, 1),
                       "playback_date_ms": round(fetch_ms)}
            (shots / "gantt_4000.json").write_text(json.dumps(figures))
            print(f"\n4,000-activity Gantt: {figures}")
            assert rows >= 4000
            assert render_ms < 1_000 and min(draws) < 30
            assert longest < 1_000
        finally:
            page.close()
        assert not errors, errors
    finally:
        server.stop()
