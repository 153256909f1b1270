"""The parameters of the live level/trend tracker a person may choose (``tracker.py``), as
one validated value: what a shadow twin varies and what its promotion makes live.

Each parameter has a range outside which it means nothing (a learning rate of 1 forgets
everything at each reading, a CUSUM reference at or above its threshold never releases);
``TrackerSettings.parsed`` refuses such values with ``InvalidInput`` naming the parameter
and its range (the API's 422), and takes the parameters not given from a base (the live
tracker's, for a shadow that varies a few).

>>> base = TrackerSettings()
>>> shadow = TrackerSettings.parsed({"threshold": 12, "rate": 0.02}, base)
>>> shadow.changed(base)
{'rate': 0.02, 'threshold': 12.0}
>>> shadow.tracker().knobs.threshold
12.0
>>> TrackerSettings.parsed({"rate": 1.5}, base)
Traceback (most recent call last):
...
twinsync.errors.InvalidInput: rate 1.5: must be at least 0 and at most 0.5
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput
from .divergence import REFERENCE, THRESHOLD
from .gate import DEFAULT_GATE, Gate
from .tracker import LevelTrendTracker

__all__ = ["LIMITS", "TrackerSettings"]

#: Each parameter's least and largest value (inclusive unless named in ``_OPEN``), and
#: what it is, for the refusal and the docs.
LIMITS: dict[str, tuple[float, float, str]] = {
    "warmup": (12, 10_000, "trusted readings before the filter starts"),
    "memory": (12, 1_000_000, "readings the usual spacing is averaged over (>= warmup)"),
    "min_quality": (0.0, 1.0, "least health quality of a reading that teaches the noise"),
    "rate": (0.0, 0.5, "online learning rate of the sensor's noise"),
    "ratio_rate": (0.0, 0.5, "online learning rate of the smoothness ratio"),
    "reference": (0.0, 5.0, "CUSUM reference k, in standard deviations"),
    "threshold": (0.5, 100.0, "CUSUM threshold h (> reference)"),
    "settle": (1, 10_000, "readings back under the release before a divergence ends"),
    "gate_probability": (0.9, 0.999999, "innovation gate: share of good readings let in"),
    "reopen_after": (1, 100, "gated readings in a row before the gate re-opens"),
}
_INTEGERS = frozenset({"warmup", "memory", "settle", "reopen_after"})


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """The tracker's chosen parameters; the defaults are the live tracker's as shipped."""

    warmup: int = 32
    memory: int = 500
    min_quality: float = 0.5
    rate: float = 0.01
    ratio_rate: float = 0.03
    reference: float = REFERENCE
    threshold: float = THRESHOLD
    settle: int = 27
    gate_probability: float = DEFAULT_GATE.probability
    reopen_after: int = DEFAULT_GATE.reopen_after

    @classmethod
    def parsed(cls, given: Mapping[str, Any], base: TrackerSettings | None = None
               ) -> TrackerSettings:
        """``base`` with the parameters in ``given`` changed, each checked; raises
        ``InvalidInput`` (reasons ``unknown_parameter``, ``bad_parameter``) and changes
        nothing on the first that is wrong."""
        base = base or cls()
        if not isinstance(given, Mapping):
            raise InvalidInput("the parameters are an object of names and numbers",
                               "bad_parameter")
        values: dict[str, Any] = {}
        for name, value in given.items():
            if name not in LIMITS:
                raise InvalidInput(f"{str(name)[:64]!r} is not a tracker parameter; they are "
                                   f"{', '.join(LIMITS)}", "unknown_parameter")
            values[name] = _number(name, value)
        settings = dataclasses.replace(base, **values)
        if settings.memory < settings.warmup:
            raise InvalidInput(f"memory {settings.memory}: must be at least warmup "
                               f"({settings.warmup})", "bad_parameter")
        if not settings.reference < settings.threshold:
            raise InvalidInput(f"threshold {settings.threshold:g}: must be above reference "
                               f"({settings.reference:g})", "bad_parameter")
        return settings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def changed(self, base: TrackerSettings) -> dict[str, Any]:
        """The parameters that differ from ``base``'s."""
        theirs = base.to_dict()
        return {name: value for name, value in self.to_dict().items()
                if value != theirs[name]}

    def tracker(self, capacity: int = 16) -> LevelTrendTracker:
        """A tracker with these parameters, its rows all fresh."""
        return LevelTrendTracker(
            warmup=self.warmup, memory=self.memory, min_quality=self.min_quality,
            reference=self.reference, threshold=self.threshold, settle=self.settle,
            rate=self.rate, ratio_rate=self.ratio_rate,
            gate=Gate(probability=self.gate_probability, reopen_after=self.reopen_after),
            capacity=capacity)


def _number(name: str, value: Any) -> int | float:
    low, high, _ = LIMITS[name]
    integer = name in _INTEGERS
    kind = "a whole number" if integer else "a number"
    # JSON's true is not 1: a flag given where a number is wanted is a mistake.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name}: must be {kind}", "bad_parameter")
    if integer and not (isinstance(value, int) or float(value).is_integer()):
        raise InvalidInput(f"{name} {value!r}: must be {kind}", "bad_parameter")
    if not math.isfinite(value) or not low <= value <= high:
        raise InvalidInput(f"{name} {value!r}: must be at least {low:g} and at most {high:g}",
                           "bad_parameter")
    return int(value) if integer else float(value)
