"""``twinsync bench zone-gain``: rooms heated in daily spells without a meter, tracked
through their heat gain (a short run: the figures' shape and that they are sane)."""

from __future__ import annotations

import argparse

from twinsync.bench import zone_gain


def test_the_zone_gain_bench_reports_time_constants_misfit_and_coverage() -> None:
    figures = zone_gain.run(argparse.Namespace(zones=8, days=10, seeds=[5],
                                               gain_noise=None))
    assert figures["gain_noise"] == 30.0 and figures["forecasts"] == 8 * 12
    # rooms heated without a meter fit: their prior misses by about what it claims
    assert 0.7 < figures["misfit"]["median"] < 1.3
    assert figures["misfit"]["above_bound_share"] < 0.1
    assert figures["tau_error_pct"]["median"] < 30
    assert set(figures["coverage"]) == {"1h", "6h", "24h"}
    assert figures["coverage"]["1h"] > 80
