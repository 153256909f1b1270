"""``twinsync bench twin`` runs end to end on small settings and reports every figure."""

from __future__ import annotations

import argparse

import pytest

from twinsync.bench import twin
from twinsync.physics.runlength import siegmund_two_sided
from twinsync.physics.zone_watch import WATCH_AFTER


def test_the_twin_bench_reports_calibration_divergence_coverage_and_cost() -> None:
    parser = argparse.ArgumentParser()
    twin.add_arguments(parser)
    args = parser.parse_args(
        [
            *("--zones", "2", "--days", "3", "--threshold", "3"),
            *("--arl-elements", "300", "--delay-elements", "300", "--series", "60"),
            *("--elements", "10", "50", "--repeat", "1"),
            *("--zone-watch-zones", "20", "--zone-watch-days", "8"),
            *("--zone-cost-sizes", "10", "30"),
            *("--zone-forecast-zones", "6", "--zone-forecast-days", "8"),
            *("--zone-forecast-seeds", "10"),
        ]
    )
    figures = twin.run(args)
    assert figures["calibration"]["ukf"]["r_error_pct_max"] < 5.0
    assert figures["calibration"]["ekf"]["c_error_pct_max"] < 10.0
    assert figures["maturity_fit"]["maturity_to_70pct_error_pct_median"] < 10.0
    cusum = figures["divergence"]["cusum"]
    assert cusum["h"] == 3.0
    # 300 elements: a standard error of about 6 % on the ARL0
    assert cusum["arl0"] == pytest.approx(siegmund_two_sided(0.0, 0.5, 3.0), rel=0.2)
    assert cusum["delay_1sd_fresh_mean"] == pytest.approx(cusum["delay_1sd_siegmund"], rel=0.1)
    assert figures["divergence"]["page_hinkley"]["arl0"] > 0
    for name in ("local_level", "local_trend"):
        assert set(figures["coverage"][name]) == {"1", "4", "16", "96"}
        assert all(80 < share < 98 for share in figures["coverage"][name].values())
    assert set(figures["cost_us"]) == {"10", "50"}
    assert all(v > 0 for c in figures["cost_us"].values() for v in c.values())
    zones = figures["zone_divergence"]
    assert zones["false_alarms"]["readings_watched"] == 20 * (8 * 96 - WATCH_AFTER)
    halved = zones["r_halved"]
    # R halved is told for nearly every zone, within a day, and recalibrated towards it.
    assert halved["told"] >= halved["of"] - 1 and halved["delay_readings_median"] < 96
    assert halved["r_error_pct_after_recalibration_median"] < halved[
        "r_error_pct_at_alarm_median"]
    assert set(zones["cost_us_a_zone_reading"]) == {"10", "30"}
    assert all(c["with_watch"] > 0 and c["without_watch"] > 0
               for c in zones["cost_us_a_zone_reading"].values())
    forecast = figures["zone_forecast"]
    assert forecast["seeds"] == [10] and forecast["forecasts_a_seed"] == 6 * 4
    for case in ("persisted", "persisted_flat", "persisted_kept", "heating_known",
                 "heating_known_flat", "inputs_known", "held"):
        assert set(forecast["10"][case]) == {"1h", "6h", "24h"}
        assert all(0 <= share <= 100 for share in forecast["10"][case].values())
    # the inputs taken as known are surer than their futures persisted with their spread
    width = forecast["all"]["width_k"]
    assert width["held"]["24h"] < width["persisted"]["24h"]
    assert set(forecast["cost_ms"]) == {"24h_12_steps", "7d_12_steps", "30d_500_steps"}
    assert all(ms > 0 for ms in forecast["cost_ms"].values())
