"""``twinsync bench ingest --fleet rooms``: every room a thermal zone on the reading path,
its cost timed as a stage of its own, and the same fleet with the zones off."""

from __future__ import annotations

import argparse
import tempfile

from twinsync.bench.ingest import add_arguments, run


def bench(*args: str) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with tempfile.TemporaryDirectory() as folder:
        return run(parser.parse_args([*args, "--store", f"sqlite:///{folder}/bench.sqlite"]))


def test_a_rooms_fleet_runs_every_room_as_a_zone_and_times_the_zones_stage() -> None:
    figures = bench("--fleet", "rooms", "--sensors", "21", "--readings", "4000",
                    "--warm-up", "20", "--batch", "1000")
    assert figures["fleet"] == "rooms" and figures["zones"] == "on"
    assert figures["zones_modelled"] == 20
    stages = figures["stage_seconds"]
    assert isinstance(stages, dict) and stages["zones"] > 0


def test_with_the_zones_off_the_same_fleet_models_no_room() -> None:
    figures = bench("--fleet", "rooms", "--zones", "off", "--sensors", "21",
                    "--readings", "4000", "--warm-up", "20", "--batch", "1000")
    assert figures["zones_modelled"] == 0
    stages = figures["stage_seconds"]
    assert isinstance(stages, dict) and stages["zones"] == 0


def test_rooms_that_hold_their_temperature_start_no_zone_episodes_where_random_ones_do(
) -> None:
    common = ("--fleet", "rooms", "--sensors", "21", "--readings", "4000", "--warm-up", "60",
              "--batch", "1000")
    steady, drawn = bench(*common, "--values", "steady"), bench(*common)
    assert steady["values"] == "steady" and drawn["values"] == "random"
    assert steady["zone_episodes"] == 0 < drawn["zone_episodes"]
