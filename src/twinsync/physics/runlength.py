"""How good a divergence detector is, measured and predicted: run lengths by simulation, and
Siegmund's approximation of the CUSUM's average run length to compare them with.

The two figures that describe a detector on normalised residuals:

- ARL0, the mean number of readings to a false alarm while the model fits (residuals
  N(0, 1)): how often it cries wolf;
- the detection delay for a sustained shift of the residuals' mean (one standard deviation
  here): how long reality and twin disagree before it says so.

``run_lengths`` simulates many independent elements at once (the detector's own batch) and
returns each one's run length; elements that have alarmed are dropped from the batch as it
goes (through the detector's ``save``/``restore``), so a long ARL0 costs what its alarms do.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .contract import Array
from .divergence import _Detector

#: Siegmund's correction of the threshold for the overshoot of a Gaussian random walk.
OVERSHOOT = 1.166


def siegmund_arl(shift: float, reference: float, threshold: float) -> float:
    """Siegmund's approximation of the one-sided (upper) CUSUM's average run length for
    N(``shift``, 1) increments: ``(e^{-2Δb} + 2Δb - 1) / (2Δ²)`` with ``Δ = shift - k``,
    ``b = h + 1.166`` (``b²`` when ``Δ = 0``)."""
    delta = shift - reference
    b = threshold + OVERSHOOT
    if abs(delta) < 1e-12:
        return b * b
    return (math.exp(-2.0 * delta * b) + 2.0 * delta * b - 1.0) / (2.0 * delta * delta)


def siegmund_two_sided(shift: float, reference: float, threshold: float) -> float:
    """The two-sided CUSUM's ARL from its two one-sided ones, ``1/ARL = 1/ARL⁺ + 1/ARL⁻``."""
    upper = siegmund_arl(shift, reference, threshold)
    lower = siegmund_arl(-shift, reference, threshold)
    return 1.0 / (1.0 / upper + 1.0 / lower)


def run_lengths(
    detector: Callable[[], _Detector],
    elements: int,
    *,
    shift: float = 0.0,
    shift_after: int = 0,
    seed: int = 0,
    limit: int = 10_000_000,
    block: int = 256,
) -> Array:
    """Run lengths of ``elements`` independent elements, each fed N(0, 1) residuals that
    become N(``shift``, 1) after ``shift_after`` readings, counted from the shift to the
    first divergence start (NaN for an element that alarmed before the shift, or not by
    ``limit`` readings)."""
    rng = np.random.default_rng(seed)
    watcher = detector()
    lengths = np.full(elements, np.nan)
    alive = np.arange(elements)
    seen = 0
    while alive.size and seen < limit:
        draws = rng.standard_normal((alive.size, block))
        after = seen + np.arange(block) >= shift_after
        draws += np.where(after, shift, 0.0)
        started = watcher.update_many(draws).started
        fired = started.any(axis=1)
        first = started.argmax(axis=1)
        at = seen + first  # the reading (from 0) at which it fired
        good = fired & (at >= shift_after)
        lengths[alive[good]] = at[good] - shift_after + 1
        seen += block
        if fired.any():
            keep = ~fired
            alive = alive[keep]
            watcher.restore({k: v[keep] for k, v in watcher.save().items()})
    return lengths
