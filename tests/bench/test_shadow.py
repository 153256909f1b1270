"""``twinsync bench shadow`` runs end to end on a few sensors: every family and shadow has
its comparison, the gate that re-opens after one reading tracks stepping levels closer,
and the cost of a reading is measured."""

from __future__ import annotations

import argparse

from twinsync.bench import shadow


def test_the_shadow_bench_compares_each_shadow_on_each_family_and_times_it() -> None:
    parser = argparse.ArgumentParser()
    shadow.add_arguments(parser)
    figures = shadow.run(parser.parse_args(["--series", "4", "--readings", "600",
                                            "--cost-sensors", "50"]))
    assert set(figures["families"]) == {"white", "walk", "daily", "ramp", "steps"}
    for shadows in figures["families"].values():
        assert set(shadows) == set(shadow.SHADOWS)
    assert figures["families"]["steps"]["reopen_after_1"]["rms_ratio"] < 0.95
    assert all(value > 0 for value in figures["cost"].values())
