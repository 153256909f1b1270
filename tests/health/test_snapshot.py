"""A saved health table loads back into a fresh monitor exactly, or not at all."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from twinsync.health import HealthMonitor, HealthParams, SnapshotMismatch, snapshot

from .conftest import Feed, grouped, peer_signals, quantise

IDS = ["t-a", "t-b", "t-c"]


def stuck_and_learned(feed: Feed) -> tuple[HealthMonitor, np.ndarray, np.ndarray]:
    """Three peers after three days, the first frozen for the last 12 hours; the rest of
    the signal (one more day) for the caller to continue with."""
    values, times = peer_signals(4, seed=3)
    values = quantise(values, 0.01)
    values[0, 240:] = values[0, 239]
    monitor = grouped()
    feed(monitor, values[:, :288], times[:, :288])
    assert monitor.state(0).state == "stuck"
    return monitor, values[:, 288:], times[:, 288:]


def every_column(monitor: HealthMonitor) -> dict[str, np.ndarray]:
    table = monitor.table
    return {name: table.column(name)[: monitor.rows_in_use].copy()
            for name in table.column_names()}


def rewritten(body: bytes, drop: str = "", window: int | None = None) -> bytes:
    """The snapshot with a column left out or another window in its header, as an older
    or differently configured twinsync would have written it."""
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    if drop:
        del arrays[drop], header["columns"][drop]
    if window is not None:
        header["window"] = window
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_loaded_monitor_has_every_column_and_goes_on_exactly_like_the_saved_one(
        feed: Feed) -> None:
    monitor, values, times = stuck_and_learned(feed)
    restored = HealthMonitor()
    assert snapshot.load(restored, snapshot.dump(monitor, IDS), IDS) == 3
    before = every_column(monitor)
    after = every_column(restored)
    assert before.keys() == after.keys()
    for name, column in before.items():
        np.testing.assert_array_equal(after[name], column, err_msg=name)
    assert restored.state(0) == monitor.state(0)
    # The same readings from here on give the same changes, reasons and all.
    assert feed(restored, values, times) == feed(monitor, values, times)


def test_sensors_are_matched_by_id_when_their_rows_moved(feed: Feed) -> None:
    monitor, _, _ = stuck_and_learned(feed)
    restored = HealthMonitor()
    moved = ["t-new", "t-c", "t-a", "t-b"]  # t-a was row 0 and is row 2 now
    assert snapshot.load(restored, snapshot.dump(monitor, IDS), moved) == 3
    assert restored.state(2).state == "stuck"
    assert restored.table.count[0] == 0
    assert restored.table.sigma2[1] == monitor.table.sigma2[2]


@pytest.mark.parametrize("damage", ["not a snapshot", "a column missing", "another window"])
def test_a_damaged_or_foreign_snapshot_is_refused_and_changes_nothing(
        feed: Feed, damage: str) -> None:
    monitor, _, _ = stuck_and_learned(feed)
    body = snapshot.dump(monitor, IDS)
    body = {"not a snapshot": body[: len(body) // 2],
            "a column missing": rewritten(body, drop="noise_fast"),
            "another window": rewritten(body, window=HealthParams().window + 2)}[damage]
    fresh = HealthMonitor()
    with pytest.raises(SnapshotMismatch):
        snapshot.load(fresh, body, IDS)
    assert fresh.rows_in_use == 0
    assert fresh.table.count[:3].tolist() == [0, 0, 0]


def as_older_format(body: bytes, *, gone: str, extra: str) -> bytes:
    """The snapshot as the previous format wrote it: one of today's columns not yet there,
    one column since removed still there."""
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["format"] = snapshot.FORMAT - 1
    del arrays[gone], header["columns"][gone]
    arrays[extra] = np.zeros(header["rows"])
    header["columns"][extra] = ["<f8", []]
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_an_older_format_keeps_what_still_means_the_same_and_relearns_the_rest(
        feed: Feed) -> None:
    # After an upgrade the stuck sensor must stay stuck and the noise baselines stay
    # learned; the drift chart, whose meaning changed, starts afresh.
    monitor, _, _ = stuck_and_learned(feed)
    body = as_older_format(snapshot.dump(monitor, IDS), gone="reg_w", extra="ring_noise")
    fresh = HealthMonitor()
    assert snapshot.load(fresh, body, IDS) == 3
    assert fresh.state(0).state == "stuck"
    before, after = every_column(monitor), every_column(fresh)
    np.testing.assert_array_equal(after["sigma2"], before["sigma2"])
    np.testing.assert_array_equal(after["count"], before["count"])
    for changed in snapshot.CHANGED_IN[snapshot.FORMAT]:
        assert (before[changed] != HealthMonitor().table.column(changed)[:1]).any(), changed
        fill = HealthMonitor().table.column(changed)[:1]
        assert (np.isnan(fill).all() and np.isnan(after[changed]).all()) or (
            after[changed] == fill).all(), changed
    assert (after["reg_w"] == 0).all()


def test_a_snapshot_of_an_unknown_format_is_refused(feed: Feed) -> None:
    monitor, _, _ = stuck_and_learned(feed)
    body = snapshot.dump(monitor, IDS)
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    header["format"] = snapshot.FORMAT + 1
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(SnapshotMismatch):
        snapshot.load(HealthMonitor(), buffer.getvalue(), IDS)
