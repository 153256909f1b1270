"""Health states, their names, and how a state and its severity become a quality 0..1.

A sensor is in exactly one state. Silence (``stale``, ``offline``) is decided by the timer;
the other states by the readings. Quality is what a decision downstream may rely on: a
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


class State(IntEnum):
    """Health state codes, as stored in the health table (int8)."""

    OK = 0
    STALE = 1
    STUCK = 2
    SPIKE = 3
    DRIFT = 4
    NOISY = 5
    OFFLINE = 6

    @property
    def label(self) -> str:
        return self.name.lower()


STATE_NAMES: tuple[str, ...] = tuple(s.label for s in State)

#: Quality of the reading that was held as a suspected spike (an outlier not yet confirmed
#: or refuted by the next readings). Low, not zero: it may turn out to be a real level shift.
OUTLIER_READING_QUALITY = 0.2

# Fixed qualities: these states carry no useful severity.
_FIXED = {
    State.OK: 1.0,
    State.SPIKE: 0.8,  # the sensor works; only the spiked readings were wrong
    State.STUCK: 0.1,  # a constant value says nothing about the property
    State.OFFLINE: 0.0,
}


def quality_of(states: NDArray[np.integer[Any]],
               severity: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quality per row from the state code and its severity (vectorised).

    Severity means, per state: ``noisy`` the ratio of current to baseline noise standard
    deviation; ``drift`` the offset in noise standard deviations; ``stale`` the fraction of
    the way from stale to offline (0..1). Ignored for the other states.
    """
    states = np.asarray(states, dtype=np.int64)
    quality = np.ones(states.shape, dtype=np.float64)
    for state, value in _FIXED.items():
        quality[states == state] = value
    with np.errstate(divide="ignore", invalid="ignore"):
        noisy = states == State.NOISY
        # Twice the usual noise halves the trust, capped so a noisy value still counts a bit.
        quality[noisy] = np.clip(1.0 / np.maximum(severity[noisy], 1.0), 0.2, 0.6)
        drift = states == State.DRIFT
        # An offset of 2 noise sd keeps 0.6; it loses 0.1 per further sd down to 0.1.
        quality[drift] = np.clip(0.8 - 0.1 * np.abs(severity[drift]), 0.1, 0.6)
        stale = states == State.STALE
        # A late reading is still likely fine; trust fades towards offline.
        quality[stale] = 0.5 - 0.3 * np.clip(severity[stale], 0.0, 1.0)
    return quality
