"""A segment's per-sensor summary says what its readings say, late ones included."""

from __future__ import annotations

import numpy as np

from twinsync.pipeline import Flag
from twinsync.store.summary import summarise
from twinsync.store.tiers import ROW_DTYPE


def test_each_sensors_summary_matches_its_readings_with_late_ones_never_the_last() -> None:
    rng = np.random.default_rng(7)
    data = np.zeros(5_000, dtype=ROW_DTYPE)
    data["sensor"] = np.sort(rng.integers(0, 300, data.size))
    data["event_time"] = rng.integers(0, 50, data.size).astype(float)  # many ties in time
    data["value"] = rng.normal(20.0, 3.0, data.size)
    data["received_at"] = np.arange(data.size, dtype=float)
    data["flags"] = np.where(rng.random(data.size) < 0.3, Flag.LATE, 0)
    sensors, starts = np.unique(data["sensor"], return_index=True)
    out = summarise(data, starts.astype(np.int64), sensors.astype(np.int64))
    for summary, first, after in zip(out, starts, [*starts[1:], data.size], strict=True):
        rows = data[first:after]
        assert summary["count"] == len(rows)
        assert np.isclose(summary["total"], rows["value"].sum())
        assert np.isclose(summary["total_squares"], (rows["value"] ** 2).sum())
        assert summary["minimum"] == rows["value"].min()
        assert summary["maximum"] == rows["value"].max()
        assert summary["t_start"] == rows["event_time"].min()
        assert summary["t_end"] == rows["event_time"].max()
        live = np.flatnonzero(rows["flags"] & Flag.LATE == 0)
        if len(live) == 0:
            assert np.isnan(summary["last_value"]) and summary["last_time"] == -np.inf
            continue
        # The newest live reading; of equal times the one stored later.
        newest = live[np.lexsort((live, rows["event_time"][live]))[-1]]
        assert summary["last_value"] == rows["value"][newest]
        assert summary["last_time"] == rows["event_time"][newest]
        assert summary["last_received"] == rows["received_at"][newest]
