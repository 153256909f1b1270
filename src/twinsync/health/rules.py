"""Small per-row rules that the fold, the checks, the timer and the reasons share."""

from __future__ import annotations

import math

import numpy as np

from ._jit import compiled

#: Condition bits of the ``cond`` column: which checks hold a sensor now.
STUCK_BIT = 1
NOISY_BIT = 2
DRIFT_BIT = 4

#: Bits of ``ring_flags``.
INLIER = 1
"""The reading is part of the robust fit (not a held outlier, not before a reset)."""
USABLE = 2
"""Peers may compare against the reading (the sensor was healthy when it came)."""

#: Quantisation to a resolution r adds noise of sd r/sqrt(12).
QUANTISATION_SD = 1.0 / math.sqrt(12.0)
# Readings before the smallest change seen is taken as the resolution (when none is given).
_LEARN_RESOLUTION_AFTER = 96

__all__ = ["DRIFT_BIT", "INLIER", "NOISY_BIT", "QUANTISATION_SD", "STUCK_BIT", "USABLE",
           "diff_sd_one", "interval_one", "popcount", "resolution_one", "sign"]


@compiled
def interval_one(given: float, learned: float) -> float:
    """The expected interval: given if set, else learned (NaN while unknown)."""
    return given if given > 0 else learned


@compiled
def resolution_one(given: float, learned: float, count: int) -> float:
    """The resolution: given if set, else the smallest change the sensor has made (once it
    has made enough readings for that to mean something), else 0."""
    if given > 0:
        return given
    if math.isfinite(learned) and count >= _LEARN_RESOLUTION_AFTER:
        return learned
    return 0.0


@compiled
def diff_sd_one(d_var: float, resolution: float) -> float:
    """Sd of the difference to the reference, floored by the quantisation noise."""
    floor = resolution * QUANTISATION_SD
    return math.sqrt(max(d_var, max(floor * floor, 1e-18)))


@compiled
def sign(value: float) -> float:
    """``np.sign``: NaN stays NaN (and compares unequal to everything)."""
    if value > 0:
        return 1.0
    if value < 0:
        return -1.0
    if value == 0:
        return 0.0
    return np.nan


@compiled
def popcount(bits: int) -> int:
    """How many bits of ``bits`` are set."""
    total = 0
    while bits:
        bits &= bits - 1
        total += 1
    return total
