"""``twinsync bench bim``: the figures it prints are there and say the kernels agree."""

from __future__ import annotations

import argparse

from twinsync.bench.bim import add_arguments, run


def test_the_bim_bench_times_each_kernel_and_shares_the_geometry_suite_out() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    figures = run(parser.parse_args(["--elements", "10", "--repeat", "1"]))
    assert figures["glb_manifold_s"] > 0 and figures["glb_opencascade_s"] > 0
    assert figures["kernels_agree"]["manifold"]["same_elements"] is True
    shapes = figures["shapes"]
    assert shapes["manifold"]["by_kernel"]["manifold"] >= 4
    assert sum(shapes["manifold"]["share"].values()) == 1.0
    assert shapes["opencascade"]["share"] == {"opencascade": 1.0}
    agree = shapes["kernels_agree"]["manifold"]
    assert agree["same_elements"] and agree["max_bbox_difference_m"] < 0.01
