"""Surprise: the novelty detector's novelty judged by how rarely this sensor's novelty has
been as high (HTM's anomaly likelihood, on the novelty detector's raw score).

A reading's novelty is the novelty detector's (``novelty.py``: the share of the patterns
it completes that the sensor's table did not hold). Its score is the tail probability of
that novelty in the sensor's own history, on a log scale: each sensor keeps a histogram of
its novelty in ``BINS`` bins, decayed at ``forget`` a reading (it remembers about the last
``1 / forget`` readings), and a novelty whose share of as-high readings is ``10**-surprise``
or less scores 1. A noisy sensor's constant novelty is then no surprise, and a regular
sensor's first departure is, whatever the magnitude its raw novelty would say.

Two priors keep the tail honest where the history is thin: a young sensor's histogram
holds fewer readings than it will remember, and those it has not had count as
unsurprising (its first departure is as surprising as an old sensor's); and ``prior``
readings more, a share ``1 - novelty`` of them as high, make a small novelty (one new
pattern of many) need the sensor's history to be a surprise, while a reading whose
patterns are all new needs none. The damping after a score of ``fire`` is the novelty
detector's.

Why it exists beside ``novelty``: it carries over better to series nobody tuned on
(docs/ANOMALY.md, "The surprise": the split-half and the made-up heavy-tailed corpora),
but its scale (an event at about 0.7) and its first readings after the warm-up differ, so
the live path keeps ``novelty`` until the monitor's thresholds are moved to it.

>>> detector = SurpriseDetector(warmup=4, settle=4, day_parts=0)
>>> values = [0, 1] * 600 + [9]
>>> scores = [detector.learn_one(0, {"time": 900.0 * i, "value": v})
...           for i, v in enumerate(values)]
>>> max(scores[10:1200]), scores[1200] >= 0.7
(0.0, True)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled_inline
from ..records import Field
from .novelty import BITS, RING, damped, novelty_of, settling
from .pattern_pass import learn_pass, register_step
from .streaming import StreamingDetector

__all__ = ["BINS", "SurpriseDetector"]

#: Bins of a sensor's histogram of its novelty, each 1/16 of [0, 1] wide.
BINS = 16
#: The tail's own prior: half a reading as high, one more in all (a novelty not met in
#: the ``N`` readings remembered has a tail of 0.5 / (N + 1), not 0).
_HALF_AS_HIGH, _ONE_MORE = 0.5, 1.0


class Knobs(NamedTuple):
    warmup: int
    levels: float
    order: int
    tilings: int
    day_parts: int
    settle: int
    forget: float
    surprise: float
    prior: float
    fire: float
    quiet: int
    damp: float


@compiled_inline
def _step(s: Any, k: Knobs, time: float, value: float) -> float:
    """One reading of the row ``s``: learn it and return its score."""
    novelty = novelty_of(s, k, time, value)
    if novelty < 0.0:
        return 0.0
    # How often this sensor's novelty was as high as now, read before this reading joins.
    here = min(int(novelty * BINS), BINS - 1)
    as_high = 0.0
    seen = 0.0
    for b in range(BINS):
        seen += s.seen[b]
        if b >= here:
            as_high += s.seen[b]
        s.seen[b] *= 1.0 - k.forget
    s.seen[here] += 1.0
    if settling(s, k, time):
        return 0.0
    if novelty <= 0.0:
        return damped(s, k, 0.0)  # nothing new is never a surprise
    remembered = max(seen, 1.0 / k.forget)
    tail = (as_high + _HALF_AS_HIGH + k.prior * (1.0 - novelty)) / (
        remembered + _ONE_MORE + k.prior
    )
    return damped(s, k, min(-math.log10(tail) / k.surprise, 1.0))


register_step(Knobs, _step)


class SurpriseDetector(StreamingDetector):
    """The novelty of each sensor's readings judged against its own history of novelty,
    a score in [0, 1] (see the module). The defaults were chosen on NAB's 18 development
    series (docs/ANOMALY.md, "The surprise")."""

    name = "surprise"
    COLUMNS: ClassVar[dict[str, Field]] = {
        "count": (np.int64, 0),
        "low": (np.float64, 0.0),
        "high": (np.float64, 0.0),
        "step": (np.float64, 1.0),
        "quiet": (np.int64, 0),
        "first_time": (np.float64, np.nan),
        # how often its novelty fell in each sixteenth of [0, 1], decayed
        "seen": (np.float64, 0.0, (BINS,)),
        "recent": (np.float64, 0.0, (RING,)),
        "table": (np.uint8, 0, (BITS // 8,)),
    }

    def __init__(
        self,
        warmup: int = 300,
        levels: float = 6.0,
        order: int = 3,
        tilings: int = 2,
        day_parts: int = 24,
        settle: int = 100,
        forget: float = 0.003,
        surprise: float = 2.8,
        prior: float = 3.0,
        fire: float = 0.9,
        quiet: int = 300,
        damp: float = 0.0,
        capacity: int = 16,
    ) -> None:
        if warmup < 1 or levels <= 0 or not 1 <= order <= RING:
            raise ValueError(f"surprise: warmup >= 1, levels > 0, 1 <= order <= {RING}")
        if not (0.0 < forget <= 1.0 and surprise > 0.0 and prior >= 0.0):
            raise ValueError("surprise: forget in (0, 1], surprise > 0, prior >= 0")
        if not (0.0 <= damp <= 1.0 and quiet >= 0 and settle >= 0):
            raise ValueError("surprise: damp in [0, 1], quiet and settle >= 0")
        super().__init__(capacity)
        self.knobs = Knobs(
            int(warmup),
            float(levels),
            int(order),
            int(tilings),
            int(day_parts),
            int(settle),
            float(forget),
            float(surprise),
            float(prior),
            float(fire),
            int(quiet),
            float(damp),
        )

    def _learn(
        self,
        rows: NDArray[np.int64],
        times: NDArray[np.float64],
        values: NDArray[np.float64],
        teach: NDArray[np.bool_],
        scores: NDArray[np.float64],
    ) -> None:
        self._run_prefetching(learn_pass, rows, times, values, teach, scores)
