"""The tracker's parameters a person may choose: the defaults are the live tracker as
shipped (so a state saved before is still taken), a change keeps every other parameter,
each reaches the tracker, and nonsense is refused naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from twinsync.errors import InvalidInput
from twinsync.physics.gate import Gate
from twinsync.physics.tracker import LevelTrendTracker
from twinsync.physics.tracker_settings import LIMITS, TrackerSettings


def test_the_default_settings_are_the_live_tracker_as_shipped() -> None:
    assert TrackerSettings().tracker().knobs == LevelTrendTracker().knobs
    assert set(TrackerSettings().to_dict()) == set(LIMITS)


def test_a_change_keeps_the_other_parameters_of_its_base_and_reaches_the_tracker() -> None:
    base = TrackerSettings.parsed({"threshold": 12})
    changed = TrackerSettings.parsed({"warmup": 48, "memory": 800, "min_quality": 0.3,
                                      "rate": 0.05, "ratio_rate": 0.1, "reference": 1.0,
                                      "settle": 10, "gate_probability": 0.99,
                                      "reopen_after": 2}, base)
    assert changed.threshold == 12.0
    assert changed.changed(base) == {"warmup": 48, "memory": 800, "min_quality": 0.3,
                                     "rate": 0.05, "ratio_rate": 0.1, "reference": 1.0,
                                     "settle": 10, "gate_probability": 0.99,
                                     "reopen_after": 2}
    knobs = changed.tracker().knobs
    assert (knobs.warmup, knobs.memory, knobs.min_quality, knobs.rate, knobs.ratio_rate,
            knobs.reference, knobs.threshold, knobs.settle, knobs.reopen_after) == (
        48, 800, 0.3, 0.05, 0.1, 1.0, 12.0, 10, 2)
    assert knobs.gate == pytest.approx(Gate(probability=0.99).threshold(1))
    assert knobs.release == 6.0 and knobs.ceiling == 24.0
    assert TrackerSettings.parsed({"warmup": 20.0}).warmup == 20  # a whole float is fine


@pytest.mark.parametrize(("given", "reason", "named"), [
    ({"rate": 0.6}, "bad_parameter", "rate"),
    ({"ratio_rate": -0.1}, "bad_parameter", "ratio_rate"),
    ({"warmup": 11}, "bad_parameter", "warmup"),
    ({"warmup": 32.5}, "bad_parameter", "warmup"),
    ({"settle": True}, "bad_parameter", "settle"),
    ({"threshold": "9"}, "bad_parameter", "threshold"),
    ({"threshold": float("inf")}, "bad_parameter", "threshold"),
    ({"min_quality": float("nan")}, "bad_parameter", "min_quality"),
    ({"gate_probability": 1.0}, "bad_parameter", "gate_probability"),
    ({"reopen_after": 0}, "bad_parameter", "reopen_after"),
    ({"memory": 20}, "bad_parameter", "memory"),  # below warmup (32)
    ({"reference": 2.0, "threshold": 2.0}, "bad_parameter", "threshold"),
    ({"learning": 0.1}, "unknown_parameter", "learning"),
])
def test_nonsense_is_refused_naming_the_parameter(given: dict[str, Any], reason: str,
                                                  named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TrackerSettings.parsed(given)
    assert caught.value.reason == reason
    assert named in str(caught.value)


def test_parameters_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        TrackerSettings.parsed([("rate", 0.1)])  # type: ignore[arg-type]
    assert caught.value.reason == "bad_parameter"
