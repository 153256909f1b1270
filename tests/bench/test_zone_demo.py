"""``twinsync bench zone-demo``: the demo's rooms through the service (a short run)."""

from __future__ import annotations

import argparse

from twinsync.bench import zone_demo


def test_the_zone_demo_bench_reports_each_rooms_time_constant_gain_and_misfit() -> None:
    figures = zone_demo.run(argparse.Namespace(readings=24, timing="story"))
    assert figures["zones"] == len(figures["rooms"]) > 0
    room = figures["rooms"][0]
    assert room["readings"] >= 20 and room["tau_hours"] > 0
    assert room["gain_k"] is not None and room["misfit"] >= 0
    assert 0 <= figures["above_misfit_bound"] <= figures["zones"]
