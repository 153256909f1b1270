"""How long the dashboard takes to recolour a slab after a posted reading, and how long
the page's thread is held by each long task (a frame being drawn, mostly), on a real
server and headless Chromium as the browser tests run them. Run by hand::

    .venv/bin/python -m tests.web.frame_probe 10

It prints whether the page draws on the CPU, the milliseconds from each of N posts to the
slab's new colour, and the long tasks' lengths (``PerformanceObserver('longtask')``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from tests.web.test_dashboard import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, floor_slabs, open_page
from tests.web.twin_server import serving_demo

LONG_TASKS = """() => { window.probeLongTasks = []; new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.probeLongTasks.push(entry.duration);
  }).observe({ type: "longtask", buffered: true }); }"""


def probe(posts: int) -> None:
    with tempfile.TemporaryDirectory() as folder, serving_demo(Path(folder)) as server, \
            httpx.Client(base_url=server.url, timeout=10.0, headers=server.headers) as api, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page, _ = open_page(browser, server, VIEWPORT)
        page.wait_for_function("window.twinsync.firstRenderMs !== null", timeout=15_000)
        page.evaluate(LONG_TASKS)
        slabs = floor_slabs(api)
        target = slabs[0]
        api.post("/api/readings", json=[{"sensor_id": s["id"], "value": 18.0 + n}
                                        for n, slab in enumerate(slabs[:2])
                                        for s in slab["sensors"]])
        page.select_option("#color-mode", "core_temperature")
        page.wait_for_function("(id) => window.twinsync.colorOf(id) !== '#3b4552'",
                               arg=target["id"])
        recolours: list[int] = []
        page.evaluate("window.probeLongTasks = []")  # the load's own are not the posts'
        for post in range(posts):
            before = page.evaluate("(id) => window.twinsync.colorOf(id)", target["id"])
            started = time.monotonic()
            value = 45.0 + post if post % 2 == 0 else 18.0
            api.post("/api/readings", json=[{"sensor_id": target["sensors"][0]["id"],
                                             "value": value}])
            page.wait_for_function("([id, before]) => window.twinsync.colorOf(id) !== before",
                                   arg=[target["id"], before], timeout=10_000)
            recolours.append(round((time.monotonic() - started) * 1000))
            time.sleep(1.0)
        print("drawn on the CPU:", page.evaluate("window.twinsync.softwareRendered"))
        print("post to new colour, ms:", recolours)
        print("long tasks, ms:", [round(t) for t in page.evaluate("window.probeLongTasks")])
        browser.close()


if __name__ == "__main__":
    probe(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
