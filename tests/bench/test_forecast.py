"""``twinsync bench forecast`` runs end to end on a few series and reports its figures."""

from __future__ import annotations

import argparse

from twinsync.bench import forecast


def test_the_forecast_bench_measures_coverage_and_times_a_forecast() -> None:
    parser = argparse.ArgumentParser()
    forecast.add_arguments(parser)
    figures = forecast.run(parser.parse_args(["--series", "5", "--repeat", "1"]))
    assert figures["series"] == 5
    assert all(0.0 <= figures[f"coverage_90_{h}h"] <= 1.0 for h in (1, 6, 24))
    # beside each share, that of the same readings forecast with their variances known
    assert all(0.0 <= figures[f"coverage_90_{h}h_model_known"] <= 1.0 for h in (1, 6, 24))
    assert figures["forecast_2880_readings_ms"] > 0
