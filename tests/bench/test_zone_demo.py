"""``twinsync bench zone-demo``: the demo's rooms through the service (a short run)."""

from __future__ import annotations

import argparse

from twinsync.bench import zone_demo


def test_the_zone_demo_bench_reports_each_rooms_time_constant_gain_and_misfit() -> None:
    figures = zone_demo.run(argparse.Namespace(readings=24, timing="story"))
    assert figures["zones"] == len(figures["rooms"]) > 0
    room = figures["rooms"][0]
    assert room["readings"] >= 20 and room["tau_hours"] > 0
    # The demo's rooms are thermal zones heated by heating no sensor reads: after six
    # hours of readings every 15 minutes the model fits them (its prior misses by about
    # the variance it claims) and takes the heating as a gain above the outdoors.
    assert figures["above_misfit_bound"] == 0
    assert all(0.2 < r["misfit"] < 2.0 for r in figures["rooms"]), figures["rooms"]
