"""``twinsync bench twin-track`` runs end to end at a small size and reports its figures."""

from __future__ import annotations

import argparse

from twinsync.bench import twin_track


def test_the_twin_track_bench_times_the_passes_the_band_and_the_route() -> None:
    parser = argparse.ArgumentParser()
    twin_track.add_arguments(parser)
    figures = twin_track.run(parser.parse_args(
        ["--readings", "2000", "--series", "5", "--length", "400", "--days", "0.5"]))
    assert figures["pass"]["live_ns_a_reading"] > 0
    assert figures["pass"]["predicting_ns_a_reading"] > 0
    assert set(figures["band_90_share"]) == {"white", "walk", "daily", "ramp"}
    assert all(0.5 < share <= 1.0 for share in figures["band_90_share"].values())
    route = figures["route"]
    assert route["readings_stored"] == 720
    assert route["range_raw"]["readings"] == 719 and route["range_raw"]["ms"] > 0
    assert route["range_every_900"]["points"] == 48
    assert route["hour_raw"]["readings"] == 60 and route["hour_raw"]["lead_readings"] == 512
