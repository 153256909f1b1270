"""``twinsync bench zones`` runs end to end on a few zones through the live service and
reports the calibration, the cost per zone reading and of a live delta, and a silent
room's value carried by its zone; with room loggers uploading late, it learns as live."""

from __future__ import annotations

import argparse

from twinsync.bench import zones


def test_the_zones_bench_reports_calibration_through_the_service_and_the_cost() -> None:
    parser = argparse.ArgumentParser()
    zones.add_arguments(parser)
    figures = zones.run(parser.parse_args(
        ["--zones", "2", "--days", "3", "--sizes", "5", "20", "--slots", "8"]))
    calibration = figures["calibration"]
    assert calibration["zones"] == 2 and calibration["days"] == 3
    assert calibration["r_error_pct_max"] < 5.0 and calibration["c_error_pct_max"] < 5.0
    assert set(figures["cost_us_a_zone_reading"]) == {"5", "20"}
    assert all(us > 0 for us in figures["cost_us_a_zone_reading"].values())
    assert all(us > 0 for us in figures["delta_us_a_property"].values())
    # The silent room's value is the zone's, its uncertainty growing with the silence.
    silent = figures["silent_room"]
    assert [row["hours"] for row in silent] == [4, 8, 12, 24]
    assert all(row["weights"] == {"prediction": 1.0} for row in silent)
    spreads = [row["uncertainty_k"] for row in silent]
    assert spreads == sorted(spreads) and spreads[0] < spreads[-1]
    beside = figures["beside_a_fresh_sensor"]
    assert 0.0 < beside["model_share_min"] <= beside["model_share_max"] < 1.0
    assert beside["off_the_reading_k_max"] < 0.1


def test_the_zones_bench_with_room_loggers_uploading_every_six_hours_learns_as_live() -> None:
    parser = argparse.ArgumentParser()
    zones.add_arguments(parser)
    arguments = ["--zones", "2", "--days", "2", "--sizes", "5", "--slots", "8"]
    live = zones.run(parser.parse_args(arguments))
    uploaded = zones.run(parser.parse_args([*arguments, "--room-upload-hours", "6"]))
    assert uploaded["room_upload_hours"] == 6
    assert uploaded["calibration"] == live["calibration"]
    assert uploaded["cost_us_a_zone_reading"]["5"] > 0
