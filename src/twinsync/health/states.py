"""Health states, their names, and how a state and its severity become a quality 0..1.

A sensor is in exactly one state. Silence (``stale``, ``offline``) and a wrong clock
(``clock``) are decided from when readings arrive (``silence``); the other states by the
readings' values. Quality is what a decision downstream may rely on: a
value from a stuck or silent sensor is not believed, a noisy or drifting one is believed
less the worse it gets, a sensor that just spiked is fine apart from the spiked reading.

>>> State.STUCK.label
'stuck'
>>> float(quality_of(np.array([State.OK, State.STUCK, State.OFFLINE]), np.zeros(3))[1])
0.1
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled


class State(IntEnum):
    """Health state codes, as stored in the health table (int8)."""

    OK = 0
    STALE = 1
    STUCK = 2
    SPIKE = 3
    DRIFT = 4
    NOISY = 5
    OFFLINE = 6
    CLOCK = 7

    @property
    def label(self) -> str:
        return self.name.lower()


STATE_NAMES: tuple[str, ...] = tuple(s.label for s in State)

#: Quality of the reading that was held as a suspected spike (an outlier not yet confirmed
#: or refuted by the next readings). Low, not zero: it may turn out to be a real level shift.
OUTLIER_READING_QUALITY = 0.2


#: Quality of a sensor whose stamps are off by more than the clock bound.
CLOCK_QUALITY = 0.4


@compiled
def quality_one(state: int, severity: float) -> float:
    """Quality of one row from its state code and severity (the kernels' rule).

    Severity means, per state: ``noisy`` the ratio of current to baseline noise standard
    deviation; ``drift`` the offset in noise standard deviations; ``stale`` the fraction of
    the way from stale to offline (0..1). Ignored for the other states.
    """
    if state == State.SPIKE:
        return 0.8  # the sensor works; only the spiked readings were wrong
    if state == State.STUCK:
        return 0.1  # a constant value says nothing about the property
    if state == State.OFFLINE:
        return 0.0
    if state == State.CLOCK:
        # The values may be right, but not when they were: placed an hour off, they would
        # bend every series, rate and fusion of their time. Below the fusion threshold (0.5)
        # so a peer whose clock is right is preferred; above stuck, the value is not void.
        return CLOCK_QUALITY
    if state == State.NOISY:
        # Below the fusion threshold (0.5) like every fault of the sensor itself: its peers
        # give the value. Twice the usual noise halves the trust, down to 0.2.
        return min(max(0.45 / max(severity, 1.0), 0.2), 0.45)
    if state == State.DRIFT:
        # A sensor named drifting is below the fusion threshold (0.5): its peers give the
        # value. 0.4 for an offset of up to 2 residual sd, 0.05 less per further sd, down
        # to 0.1.
        return min(max(0.5 - 0.05 * abs(severity), 0.1), 0.4)
    if state == State.STALE:
        # A late reading is still likely fine; trust fades towards offline.
        return 0.5 - 0.3 * min(max(severity, 0.0), 1.0)
    return 1.0


def quality_of(states: NDArray[np.integer[Any]],
               severity: NDArray[np.float64]) -> NDArray[np.float64]:
    """``quality_one`` over arrays of state codes and severities."""
    quality: NDArray[np.float64] = np.vectorize(quality_one, otypes=[np.float64])(
        np.asarray(states, dtype=np.int64), np.asarray(severity, dtype=np.float64))
    return quality
