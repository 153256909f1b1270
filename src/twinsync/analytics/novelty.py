"""Contextual novelty: how many of the patterns a reading completes were never seen before.

Each sensor's values are cut into levels (``levels`` over the range of its first
``warmup`` readings, and with ``day_parts`` of its first day at least; values beyond that
range get levels of their own). A reading ends a pattern of each length 1 to ``order``:
its level, its level after the one before, and so on; and, with ``day_parts``, its level
at this part of the day (UTC: a sensor's patterns are its own, so the zone only relabels
the parts), news only once the sensor has remembered a whole day of them (else every
sensor of a new fleet meets each hour as news at once). A warm-up that waited for its day
(its ``warmup`` readings spanned less: at 300, a sensor read more often than every 288 s)
gives the table, at its end, what its readings met without remembering it
(``_remember_range``): every level of its range, and every pattern that moves at most one
level a reading within it, so a slow signal read often (a room every 2 s) does not meet
its own day as news in the day after its warm-up.
Scores are told from ``settle`` readings after the warm-up and, with ``day_parts``, from a
day of patterns or ``warmup`` readings of them, whichever comes first (``settling``).
``tilings`` cuts of the levels, each shifted by a share of a step, make the score graded.
Every pattern met is remembered, one bit in a fixed table of ``BITS`` bits a sensor (a
hash of the pattern picks the bit), so a sensor's state stays the same size however long
it runs; a bit another pattern set first makes a new pattern look known, which the
table's size keeps rare.
The novelty of a reading is the share of its patterns not in the table; it is compared
with the sensor's usual novelty (a noisy sensor meets new patterns all the time, a
regular one never), and after an alarm the next ``quiet`` readings are damped, so that an
anomaly is told once, early, rather than at every reading it lasts.

This is the idea of the contextual detectors that lead the Numenta Anomaly Benchmark
(CAD OSE, ARTime): an anomaly is a context the sensor has not been in, and a sensor's own
history, not a global model, says what is usual.

>>> detector = NoveltyDetector(warmup=4, settle=4, day_parts=0)
>>> values = [0, 1] * 10 + [9]
>>> scores = [detector.learn_one(0, {"time": 900.0 * i, "value": v})
...           for i, v in enumerate(values)]
>>> max(scores[10:20]), scores[20] > 0.5
(0.0, True)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ..jit import compiled_inline
from ..records import Field
from .pattern_pass import learn_pass, register_step
from .streaming import StreamingDetector

__all__ = ["NoveltyDetector", "damped", "novelty_of", "settling"]

#: The longest pattern remembered; ``order`` is at most this.
RING = 8
#: Bits of the pattern table of one sensor (512 bytes).
BITS = 4096
#: Hashing: a prime modulus below 2**31, a multiplier, and how far a level may reach
#: beyond the learned range (so that products stay within 63 bits in Python and compiled).
_PRIME = 2_147_483_647
_MULTIPLIER = 1_000_003
_FARTHEST = 1_000_000
_DAY = 86_400.0
#: The longest pattern the warm-up's range is remembered with (``_remember_range``): 3
#: levels, so that a sensor's table holds at most a few hundred of its 4,096 bits so.
_RANGE_PATTERNS = 3
#: And the levels beyond each end of the range it is remembered with.
_RANGE_MARGIN = 1


class Knobs(NamedTuple):
    warmup: int
    levels: float
    order: int
    tilings: int
    day_parts: int
    settle: int
    usual_rate: float
    fire: float
    quiet: int
    damp: float


@compiled_inline
def _level(s: Any, value: float, shift: float) -> int:
    position = math.floor((value - s.low) / s.step + shift)
    return int(min(max(position, -_FARTHEST), _FARTHEST))


@compiled_inline
def _remember(s: Any, pattern: int) -> int:
    """Mark the pattern's bit in the row's table; 1 if it was new."""
    bit = pattern % BITS
    byte = bit >> 3
    mask = 1 << (bit & 7)
    if s.table[byte] & mask != 0:
        return 0
    s.table[byte] = s.table[byte] | mask
    return 1


@compiled_inline
def _remember_range(s: Any, k: Any) -> None:
    """Remember, at the warm-up's end, what its readings met without remembering it (the
    levels were not known yet): every level within the range learned (and one beyond each
    end), and every pattern (up to ``_RANGE_PATTERNS`` long) that moves by at most one
    level a reading within them.
    A signal whose range is its warm-up's moves so when it is read often enough to be
    smooth (a room read every 2 s crosses a level in thousands of readings), and would
    otherwise meet each level and each crossing of the warm-up's day as news in the day
    after it; a sensor read sparsely or noisily jumps between levels, and those patterns
    it still learns as it meets them. The hashes are ``novelty_of``'s."""
    longest = min(k.order, _RANGE_PATTERNS)
    for tiling in range(k.tilings):
        shift = tiling / k.tilings
        # One level beyond each end too: a day's range is a sample's, and the next day's
        # noise overshoots it a little (a room's coldest reading a few hundredths lower).
        bottom = _level(s, s.low, shift) - _RANGE_MARGIN
        top = _level(s, s.high, shift) + _RANGE_MARGIN
        for first in range(bottom, top + 1):
            one = (tiling * _MULTIPLIER + first + _FARTHEST) % _PRIME
            _remember(s, one)
            if longest < 2:
                continue
            for second in range(max(first - 1, bottom), min(first + 1, top) + 1):
                two = (one * _MULTIPLIER + second + _FARTHEST + 1) % _PRIME
                _remember(s, two)
                if longest < 3:
                    continue
                for third in range(max(second - 1, bottom), min(second + 1, top) + 1):
                    _remember(s, (two * _MULTIPLIER + third + _FARTHEST + 2) % _PRIME)


@compiled_inline
def novelty_of(s: Any, k: Any, time: float, value: float) -> float:
    """One reading of the row ``s``: learn its patterns and return the share of them that
    were new, or -1 when there is nothing to judge yet (a missing value, or the warm-up).
    ``k`` is any knobs with ``warmup``, ``levels``, ``order``, ``tilings`` and
    ``day_parts``; the row has ``count``, ``low``, ``high``, ``step``, ``first_time``,
    ``recent`` and ``table`` (``surprise.py`` shares this with the novelty detector)."""
    if not math.isfinite(value):
        return -1.0  # nothing to judge, nothing to learn
    n = s.count
    if n < k.warmup:
        if n == 0 or value < s.low:
            s.low = value
        if n == 0 or value > s.high:
            s.high = value
        if math.isnan(s.first_time) and math.isfinite(time):
            s.first_time = time  # while warming up: when the warm-up began
        if n == k.warmup - 1:
            if k.day_parts > 0 and time - s.first_time < _DAY:
                # With the day as context the range is that of a whole day at least: a
                # room read every 2 s spans a few tenths of a kelvin in its first 300
                # readings, and each later hour of its day would be a level never seen.
                # The count waits here (a snapshot keeps it so) until the day is over;
                # ``step``, not cut before the warm-up's end, is 0 meanwhile: the mark
                # that its range is to be remembered then (``_remember_range``).
                s.step = 0.0
                return -1.0
            waited = s.step == 0.0
            # A flat warm-up still needs a scale: a small share of the value's size.
            floor = 1e-6 * max(abs(s.low), abs(s.high), 1.0)
            s.step = max((s.high - s.low) / k.levels, floor)
            if waited:
                _remember_range(s, k)
            s.first_time = math.nan  # from now on: when its patterns began to be remembered
        s.count = n + 1
        return -1.0
    s.count = n + 1
    s.recent[n % RING] = value
    if math.isnan(s.first_time) and math.isfinite(time):
        s.first_time = time  # the first reading whose patterns are remembered
    known = min(n - k.warmup + 1, k.order)
    unseen = 0
    for tiling in range(k.tilings):
        # Each tiling cuts the levels a fraction of a step apart: a value that wavers
        # across one tiling's edge is inside the others' levels.
        shift = tiling / k.tilings
        h = tiling
        for length in range(known):
            level = _level(s, s.recent[(n - length) % RING], shift)
            h = (h * _MULTIPLIER + level + _FARTHEST + length) % _PRIME
            unseen += _remember(s, h)
    patterns = known * k.tilings
    if k.day_parts > 0 and math.isfinite(time):
        # The calendar as context: this level at this part of the day (a room warm at
        # night, a site busy on a holiday morning). Learned from the first reading on, but
        # news only once the sensor has been through a whole day: before that every part
        # of the day is one it has not met, for every sensor of a fleet at once.
        part = math.floor((time % _DAY) / (_DAY / k.day_parts))
        counted = time - s.first_time >= _DAY
        for tiling in range(k.tilings):
            level = _level(s, value, tiling / k.tilings)
            # (Reduced at each step: a product must stay within 63 bits, compiled or not.)
            h = ((_PRIME - 1 - tiling) * _MULTIPLIER + part) % _PRIME
            h = (h * _MULTIPLIER + level + _FARTHEST) % _PRIME
            new = _remember(s, h)
            if counted:
                unseen += new
        if counted:
            patterns += k.tilings
    novelty: float = unseen / patterns
    return novelty


@compiled_inline
def settling(s: Any, k: Any, time: float) -> bool:
    """Whether the row ``s`` (past ``novelty_of``) tells no score yet: in its first
    ``settle`` readings after the warm-up (its first patterns are all new), and, with
    ``day_parts``, until it has remembered a whole day of patterns or as many readings
    of them as its warm-up's count, whichever comes first. A sensor read every 5 minutes
    or slower (NAB's series) is past its count only after its day; one read more often,
    whose warm-up waited for its day and whose range was then remembered
    (``_remember_range``), has met its own day's levels and is scored after that many
    readings: 5 hours at a reading a minute, 10 minutes at one every 2 s."""
    if s.count <= k.warmup + k.settle:
        return True
    waiting: bool = (
        k.day_parts > 0 and time - s.first_time < _DAY and s.count < 2 * k.warmup
    )
    return waiting


@compiled_inline
def damped(s: Any, k: Any, score: float) -> float:
    """The score as told: after one of ``fire`` or more, the next ``quiet`` readings are
    multiplied by ``damp`` (the row's ``quiet`` counts them down)."""
    if s.quiet > 0:
        s.quiet -= 1
        return float(score * k.damp)
    if score >= k.fire:
        s.quiet = k.quiet
    return score


@compiled_inline
def _step(s: Any, k: Knobs, time: float, value: float) -> float:
    """One reading of the row ``s``: learn it and return its score."""
    novelty = novelty_of(s, k, time, value)
    if novelty < 0.0:
        return 0.0
    usual = s.usual
    s.usual = usual + k.usual_rate * (novelty - usual)
    if settling(s, k, time):
        return 0.0
    score: float = max(novelty - usual, 0.0) / max(1.0 - usual, 1e-9)
    return damped(s, k, score)


register_step(Knobs, _step)


class NoveltyDetector(StreamingDetector):
    """Contextual novelty of each sensor's readings, a score in [0, 1] (see the module)."""

    name = "novelty"
    COLUMNS: ClassVar[dict[str, Field]] = {
        "count": (np.int64, 0),
        "low": (np.float64, 0.0),
        "high": (np.float64, 0.0),
        "step": (np.float64, 1.0),
        "usual": (np.float64, 0.0),
        "quiet": (np.int64, 0),
        # when its patterns began to be remembered (its day parts count a day after)
        "first_time": (np.float64, np.nan),
        "recent": (np.float64, 0.0, (RING,)),
        "table": (np.uint8, 0, (BITS // 8,)),
    }

    def __init__(
        self,
        warmup: int = 300,
        levels: float = 8.0,
        order: int = 2,
        tilings: int = 3,
        day_parts: int = 24,
        settle: int = 100,
        usual_rate: float = 0.003,
        fire: float = 0.4,
        quiet: int = 300,
        damp: float = 0.0,
        capacity: int = 16,
    ) -> None:
        if warmup < 1 or levels <= 0 or not 1 <= order <= RING:
            raise ValueError(f"novelty: warmup >= 1, levels > 0, 1 <= order <= {RING}")
        if not (0.0 <= usual_rate <= 1.0 and 0.0 <= damp <= 1.0 and quiet >= 0 and settle >= 0):
            raise ValueError("novelty: usual_rate and damp in [0, 1], quiet and settle >= 0")
        super().__init__(capacity)
        self.knobs = Knobs(
            int(warmup),
            float(levels),
            int(order),
            int(tilings),
            int(day_parts),
            int(settle),
            float(usual_rate),
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
