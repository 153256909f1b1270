"""A detector's saved state comes back by sensor id, with the monitor's event columns
saved beside it; a state saved before those columns existed still loads."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.analytics.novelty import NoveltyDetector
from twinsync.analytics.snapshot import DetectorSnapshotMismatch, dump, load


def learned() -> NoveltyDetector:
    detector = NoveltyDetector(warmup=3, settle=0)
    rows = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=np.int64)
    # Half a day between readings, a day between a sensor's: past a warm-up that lasts a
    # day (a sensor's count waits at its warm-up's last until then).
    detector.learn_many(rows, {"time": 43_200.0 * np.arange(8), "value": np.arange(8.0)})
    return detector


def test_extra_columns_come_back_with_the_detector_by_sensor_id() -> None:
    told_at = np.array([100.0, -np.inf])
    untold = np.array([0, 4], dtype=np.int64)
    body = dump(learned(), ["a", "b"], extra={"told_at": told_at, "untold": untold})
    # After a restart the sensors have other rows, and a new one is first.
    fresh = NoveltyDetector(warmup=3, settle=0)
    fresh_told, fresh_untold = np.full(3, -np.inf), np.zeros(3, dtype=np.int64)
    assert load(fresh, body, ["new", "b", "a"],
                extra={"told_at": fresh_told, "untold": fresh_untold}) == 2
    assert fresh_told.tolist() == [-np.inf, -np.inf, 100.0]
    assert fresh_untold.tolist() == [0, 4, 0]
    assert fresh.save(np.array([2]))["count"][0] == 4


def test_a_state_saved_without_the_extra_columns_loads_and_leaves_them_as_they_are() -> None:
    body = dump(learned(), ["a", "b"])  # as the service wrote it before the quiet time
    told_at = np.full(2, -np.inf)
    assert load(NoveltyDetector(warmup=3, settle=0), body, ["a", "b"],
                extra={"told_at": told_at}) == 2
    assert np.isneginf(told_at).all()


def test_an_extra_column_of_another_layout_is_refused_and_nothing_is_written() -> None:
    body = dump(learned(), ["a", "b"], extra={"told_at": np.array([1.0, 2.0])})
    fresh = NoveltyDetector(warmup=3, settle=0)
    told_at = np.zeros(2, dtype=np.int64)
    with pytest.raises(DetectorSnapshotMismatch):
        load(fresh, body, ["a", "b"], extra={"told_at": told_at})
    assert told_at.tolist() == [0, 0]
    assert fresh.save(np.array([0]))["count"][0] == 0
