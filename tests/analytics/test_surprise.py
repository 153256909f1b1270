"""The surprise detector judges a reading's novelty by how often its sensor's novelty was
as high (its contract is checked with every detector's in ``test_novelty.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.analytics.surprise import SurpriseDetector

#: The surprise detector's standard threshold on the development set (0.73), rounded down.
SURPRISE_EVENT_AT = 0.7


def test_a_sensor_that_keeps_going_somewhere_new_is_less_and_less_surprised_by_it() -> None:
    """Every 25 readings the sensor visits a level it never reached (each visit all new
    patterns, novelty 1). The score judges novelty by how often this sensor's novelty was
    as high: the first visit is an anomaly, the later ones, its habit, mostly not (92 %
    below 0.7; the older score, the novelty above its mean, put 84 % of them at or above
    its monitor's event threshold, 0.33)."""
    event_at = SURPRISE_EVENT_AT
    values = 20 + np.sin(np.arange(6000) / 10)
    visits = np.arange(1000, 6000, 25)
    values[visits] = 100.0 + 10.0 * np.arange(visits.size)
    times = 1.7e9 + np.arange(values.size) * 900.0
    scores = SurpriseDetector(quiet=0).learn_many(  # no damping: each visit on its own
        np.zeros(values.size, dtype=np.int64), {"time": times, "value": values})
    assert scores[visits[0]] >= event_at
    assert np.mean(scores[visits[40:]] >= event_at) < 0.15
    assert np.median(scores[visits[40:]]) < event_at - 0.1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="prior"):
        SurpriseDetector(prior=-1.0)
    with pytest.raises(ValueError, match="forget"):
        SurpriseDetector(forget=0.0)
    with pytest.raises(ValueError, match="order"):
        SurpriseDetector(order=0)
