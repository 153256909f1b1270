"""The element panel's withdrawn marks in headless Chromium against a real server: a mark
an operator withdraws leaves the expected anomalies for a collapsed "Withdrawn" list,
greyed, with who marked it, who withdrew it, when and why, and nothing to press; it is
still there when the page is loaded again; a viewer sees the withdrawn marks of the
element shown (not another's), and one withdrawn elsewhere joins them live.

One server for the module (seeding the demo building takes seconds); each test opens a
page of its own, plants its own marks on a slab of its own and reads only those, so the
tests pass alone and in any order. Screenshots go to ``$TWINSYNC_SCREENSHOTS`` if set,
else to pytest's temp folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from twinsync.cli.token_cmd import create_token
from twinsync.tokens import Role

from .test_dashboard import elements, open_in_tree, require_chromium
from .twin_server import ServerThread, serving_demo

pytestmark = pytest.mark.browser

EXPECTED = '#panel [data-role="expected"]'
WITHDRAWN = f'{EXPECTED} details[data-role="withdrawn"]'
DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    require_chromium()
    with serving_demo(tmp_path_factory.mktemp("twin")) as thread:
        yield thread


@pytest.fixture(scope="module")
def api(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0, headers=server.headers) as client:
        yield client


@pytest.fixture(scope="module")
def slabs(api: httpx.Client) -> list[dict[str, Any]]:
    """The slabs with loggers, by name: each test takes its own."""
    found = [s for s in sorted(elements(api, type="IfcSlab"), key=lambda e: e["name"])
             if s["sensors"]]
    assert len(found) >= 3, [s["name"] for s in found]
    return found


def signed_in(browser: Any, server: ServerThread, token: str) -> tuple[Any, list[str]]:
    """A page of its own on the dashboard, signed in with ``token``, live; and the list
    its uncaught errors go to."""
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/login#token={token}")
    page.wait_for_url(f"{server.url}/", timeout=10_000)
    page.wait_for_function("window.twinsync && window.twinsync.connection === 'live'",
                           timeout=15_000)
    return page, errors


def mark(api: httpx.Client, reason: str, **target: str) -> str:
    """Mark the last hour of a sensor or an element expected; the mark's id."""
    now = time.time()
    answer = api.post("/api/anomalies/expected",
                      json={**target, "start": now - 3600, "end": now, "reason": reason})
    answer.raise_for_status()
    (mark_id,) = {span["id"] for span in answer.json()["expected"]}
    return str(mark_id)


def withdraw(api: httpx.Client, mark_id: str, why: str) -> None:
    api.request("DELETE", f"/api/anomalies/expected/{mark_id}",
                json={"reason": why}).raise_for_status()


def wait_for_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function("([s, t]) => document.querySelector(s)?.textContent.includes(t)",
                           arg=[selector, text], timeout=5_000)


def test_a_mark_an_operator_withdraws_moves_to_a_collapsed_greyed_list_with_who_when_and_why(
        browser: Any, server: ServerThread, api: httpx.Client, slabs: list[dict[str, Any]],
        shots: Any) -> None:
    slab = slabs[0]
    wrong = mark(api, "pour of the wrong slab", sensor_id=slab["sensors"][0]["id"])
    mark(api, "load test", element_id=slab["id"])
    page, errors = signed_in(browser, server, server.token)
    try:
        open_in_tree(page, slab)
        wait_for_text(page, f"{EXPECTED} .expected-list", "pour of the wrong slab")
        assert page.locator(WITHDRAWN).is_hidden()  # nothing withdrawn yet: no list
        item = f'{EXPECTED} li[data-mark="{wrong}"]'
        page.click(f"{item} button[data-action=withdraw]")
        page.fill(f'{item} input[name="why"]', "marked the wrong slab")
        began = time.time()
        page.click(f'{item} form.withdraw-form button[type="submit"]')
        page.wait_for_selector(item, state="detached", timeout=5_000)

        # The mark is on the record, under a collapsed "Withdrawn" list.
        page.wait_for_selector(WITHDRAWN, state="visible", timeout=5_000)
        assert page.get_attribute(WITHDRAWN, "open") is None
        assert page.text_content(f"{WITHDRAWN} > summary") == "Withdrawn 1"
        gone = f'{WITHDRAWN} li[data-withdrawn-mark="{wrong}"]'
        assert page.locator(gone).is_hidden()
        page.click(f"{WITHDRAWN} > summary")
        page.wait_for_selector(gone, state="visible")
        text = page.text_content(gone) or ""
        assert "pour of the wrong slab" in text and "marked by dashboard tests" in text
        answer = api.get("/api/anomalies/expected",
                         params={"element_id": slab["id"], "withdrawn": "only"}).json()
        withdrawn_at = answer["expected"][0]["withdrawn_at"]
        assert began - 1 <= withdrawn_at <= time.time()
        when = page.evaluate("""async (t) => (await import("/static/js/expected.js"))
                                .whenText(t)""", withdrawn_at)
        assert f"withdrawn by dashboard tests · {when} · “marked the wrong slab”" in text
        # Greyed and inert: lighter than the marks in force, nothing to press.
        assert page.locator(f"{WITHDRAWN} button").count() == 0
        assert float(page.eval_on_selector(f"{WITHDRAWN} .withdrawn-list",
                                           "(e) => getComputedStyle(e).opacity")) < 1
        assert page.eval_on_selector(f"{gone} .what",
                                     "(e) => getComputedStyle(e).textDecorationLine"
                                     ) == "line-through"
        # The standing mark is still in force, with its Withdraw button.
        assert "load test" in (page.text_content(f"{EXPECTED} .expected-list") or "")
        for name, size in (("desktop", DESKTOP), ("tablet", TABLET)):
            page.set_viewport_size(size)
            page.wait_for_timeout(300)
            page.locator(WITHDRAWN).scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"expected_withdrawn_{name}.png"))
            box = page.locator(WITHDRAWN).bounding_box()
            panel = page.locator("#panel").bounding_box()
            assert box is not None and panel is not None
            assert box["x"] >= panel["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]

        # Loaded again, the page reads it back from the server, collapsed again.
        page.set_viewport_size(DESKTOP)
        page.reload()
        page.wait_for_function("window.twinsync && window.twinsync.connection === 'live'",
                               timeout=15_000)
        open_in_tree(page, slab)
        page.wait_for_selector(WITHDRAWN, state="visible", timeout=5_000)
        assert page.get_attribute(WITHDRAWN, "open") is None
        assert "pour of the wrong slab" in (page.text_content(f"{WITHDRAWN} .withdrawn-list")
                                            or "")
        assert "pour of the wrong slab" not in (page.text_content(f"{EXPECTED} .expected-list")
                                                or "")
    finally:
        page.close()
    assert not errors, f"the page threw: {errors}"


def test_a_viewer_sees_the_elements_withdrawn_marks_only_and_one_withdrawn_meanwhile_joins(
        browser: Any, server: ServerThread, api: httpx.Client, slabs: list[dict[str, Any]],
        shots: Any) -> None:
    slab, other = slabs[1], slabs[2]
    withdraw(api, mark(api, "heater test", element_id=slab["id"]), "the heater never ran")
    withdraw(api, mark(api, "pour of another slab", element_id=other["id"]), "wrong element")
    later = mark(api, "crane load", sensor_id=slab["sensors"][0]["id"])
    viewer_token, _ = create_token(server.store, "site visitor", Role.VIEWER)
    page, errors = signed_in(browser, server, viewer_token)
    try:
        open_in_tree(page, slab)
        page.wait_for_selector(WITHDRAWN, state="visible", timeout=5_000)
        page.click(f"{WITHDRAWN} > summary")
        listed = f"{WITHDRAWN} .withdrawn-list"
        wait_for_text(page, listed, "heater test")
        assert "pour of another slab" not in (page.text_content(listed) or "")
        assert "withdrawn by dashboard tests" in (page.text_content(listed) or "")
        # Withdrawn by someone else meanwhile: the live event reads the lists again, and
        # the list stays open as the viewer left it.
        withdraw(api, later, "the crane came a day late")
        wait_for_text(page, listed, "the crane came a day late")
        assert page.get_attribute(WITHDRAWN, "open") is not None
        assert page.text_content(f"{WITHDRAWN} > summary") == "Withdrawn 2"
        # The latest withdrawn first.
        reasons = page.locator(f"{listed} li .what").all_text_contents()
        assert reasons == ["crane load", "heater test"]
        assert page.locator(f"{EXPECTED} button").count() == 0  # a viewer presses nothing
        page.locator(WITHDRAWN).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "expected_withdrawn_viewer.png"))
    finally:
        page.close()
    assert not errors, f"the page threw: {errors}"
