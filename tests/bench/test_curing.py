"""``twinsync bench curing`` runs end to end on a small twin and reports its figures."""

from __future__ import annotations

import argparse

from twinsync.bench import curing


def test_the_curing_bench_times_the_functions_and_a_round_over_a_small_twin() -> None:
    parser = argparse.ArgumentParser()
    curing.add_arguments(parser)
    figures = curing.run(
        parser.parse_args(["--readings", "1000", "--slabs", "3", "--days", "12", "--repeat", "1"])
    )
    assert figures["readings_ingested"] == 3 * 2 * 12 * 96
    # 12 days at a mean of 2 °C or more is 12 °C·h an hour over the -10 °C datum for 288 h,
    # 3,456 °C·h, past the 2,154 the mix needs: every slab is recorded, and only once
    assert figures["recorded"] == 3 and figures["recorded_again"] == 0
    assert figures["first_round_s"] > 0 and figures["view_s"] > 0
