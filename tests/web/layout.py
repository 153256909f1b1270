"""What the dashboard's browser tests check of a page's layout at a screen size."""

from __future__ import annotations

from typing import Any


def assert_panel_and_legend_fit(page: Any, within_panel: str) -> None:
    """Nothing the selector ``within_panel`` finds in the side panel is wider than the
    panel (no sideways scroll, no clipping), and the colour legend stays inside the 3D
    viewport."""
    overflow = page.evaluate("""(selector) => {
        const panel = document.querySelector('#panel');
        const right = panel.getBoundingClientRect().right;
        const wide = [...panel.querySelectorAll(selector)]
            .filter((node) => node.getBoundingClientRect().right > right + 0.5)
            .map((node) => node.className || node.tagName);
        return {scroll: panel.scrollWidth - panel.clientWidth, wide};
    }""", within_panel)
    assert overflow == {"scroll": 0, "wide": []}, overflow
    legend = page.locator("#legend").bounding_box()
    viewport = page.locator(".viewport").bounding_box()
    assert legend and viewport
    assert legend["x"] + legend["width"] <= viewport["x"] + viewport["width"]
