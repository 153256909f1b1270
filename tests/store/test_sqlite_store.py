"""The SQLite store: the conformance check on a file and in memory, tiers, restarts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from tests.store.conftest import batch_of

from twinsync.model import Event
from twinsync.pipeline import Batch, DeadLetter, Flag
from twinsync.store.check import check_store
from twinsync.store.sqlite import SQLiteStore
from twinsync.store.summary import aggregate
from twinsync.store.tiers import ROW_DTYPE, ROW_DTYPE_V3, HotRows, order_by_sensor, seal


def _rows(sensors: list[int], times: list[float], values: list[float],
          flags: list[int] | None = None) -> np.ndarray:
    rows = np.zeros(len(sensors), dtype=ROW_DTYPE)
    rows["sensor"] = sensors
    rows["event_time"] = times
    rows["value"] = values
    rows["flags"] = flags or [0] * len(sensors)
    return rows


def test_a_store_on_a_file_passes_the_conformance_check(tmp_path: Path) -> None:
    check_store(lambda: SQLiteStore(f"sqlite:///{tmp_path / 'twin.sqlite'}"))


def test_a_store_in_memory_passes_the_conformance_check() -> None:
    check_store(lambda: SQLiteStore("sqlite://:memory:"))


def test_a_store_that_seals_after_every_batch_passes_the_conformance_check(
        tmp_path: Path) -> None:
    check_store(lambda: SQLiteStore(f"sqlite:///{tmp_path / 'twin.sqlite'}?seal_rows=1"))


def test_the_check_fails_a_store_that_forgets_a_reading() -> None:
    class Forgetful(SQLiteStore):
        def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
                   events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
                   ) -> None:
            keep = np.arange(len(batch)) > 0
            trimmed = Batch(batch.rows[keep], batch.value[keep], batch.raw_value[keep],
                            batch.event_time[keep], batch.received_at[keep], batch.seq[keep],
                            batch.source, batch.connector, None, None)
            super().commit(trimmed, dead_letters, events, counts)

    with pytest.raises(AssertionError):
        check_store(lambda: Forgetful("sqlite://:memory:"))


def test_the_check_fails_a_store_that_does_not_commit_the_counts_with_the_batch(
        tmp_path: Path) -> None:
    class Uncounting(SQLiteStore):
        def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
                   events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
                   ) -> None:
            super().commit(batch, dead_letters, events)

    with pytest.raises(AssertionError, match="totals are"):
        check_store(lambda: Uncounting(f"sqlite:///{tmp_path / 'twin.sqlite'}"))


def test_the_check_fails_a_store_that_keeps_only_the_first_snapshot() -> None:
    class Stubborn(SQLiteStore):
        def save_snapshot(self, name: str, body: bytes) -> None:
            if self.load_snapshot(name) is None:
                super().save_snapshot(name, body)

    with pytest.raises(AssertionError, match="replaces it"):
        check_store(lambda: Stubborn("sqlite://:memory:"))


def test_sorting_by_sensor_is_stable_across_radix_passes() -> None:
    rng = np.random.default_rng(7)
    for span in (3, 70_000, 5_000_000_000):
        sensors = rng.integers(0, span, 5000)
        order = order_by_sensor(sensors, span)
        assert order.tolist() == np.argsort(sensors, kind="stable").tolist()


def test_a_seal_groups_each_sensor_in_arrival_order_with_a_dense_directory() -> None:
    rows = _rows([2, 0, 2, 0, 2], [5.0, 1.0, 3.0, 2.0, 4.0], [10, 20, 30, 40, 50])
    segment = seal(rows, span=4)
    assert segment.offsets.tolist() == [0, 2, 2, 5, 5]
    assert segment.data["value"].tolist() == [20, 40, 10, 30, 50]
    assert (segment.t_start, segment.t_end) == (1.0, 5.0)


def test_a_seal_summary_takes_time_bounds_as_min_and_max_not_first_and_last() -> None:
    summary = seal(_rows([0, 0, 0], [7.0, 3.0, 5.0], [1.0, 2.0, 3.0]), span=1).summary
    assert (summary["t_start"][0], summary["t_end"][0]) == (3.0, 7.0)
    assert summary["last_value"][0] == 1.0
    assert (summary["count"][0], summary["total"][0], summary["total_squares"][0]) == (3, 6, 14)


def test_a_late_reading_does_not_become_the_last_value() -> None:
    rows = _rows([0, 0, 1], [5.0, 9.0, 4.0], [1.0, 2.0, 3.0], [0, Flag.LATE, Flag.LATE])
    summary = seal(rows, span=2).summary
    assert summary["last_value"][0] == 1.0 and summary["last_time"][0] == 5.0
    assert np.isnan(summary["last_value"][1]) and summary["last_time"][1] == -np.inf
    assert summary["count"].tolist() == [2, 1]


def test_the_newest_summary_wins_a_tie_in_event_time() -> None:
    older = seal(_rows([0], [5.0], [1.0]), span=1).summary
    newer = seal(_rows([0], [5.0], [2.0]), span=1).summary
    assert aggregate([older, newer]).last_value.tolist() == [2.0]
    assert aggregate([newer, older]).last_value.tolist() == [1.0]


def test_hot_rows_forget_only_the_rows_a_seal_took() -> None:
    hot = HotRows()
    hot.append(_rows([0, 1], [1.0, 2.0], [1.0, 2.0]), journal_id=1)
    taken, through = hot.oldest()
    hot.append(_rows([3], [3.0], [3.0]), journal_id=2)  # committed while the seal ran
    hot.drop_oldest(len(taken))
    assert through == 1
    assert hot.size == 1 and hot.all()["sensor"].tolist() == [3]
    assert hot.last_journal_id == 2 and hot.sensor_span == 4
    assert hot.of_sensor(3)["value"].tolist() == [3.0]


def test_a_file_of_the_per_sensor_block_layout_is_upgraded_without_losing_a_reading(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    # Version 1 stored readings of the layout before anomaly scores.
    block_dtype = np.dtype([(n, ROW_DTYPE_V3[n]) for n in ROW_DTYPE_V3.names or ()
                            if n != "sensor"])
    block = np.zeros(2, dtype=block_dtype)
    block["event_time"], block["value"] = [1.0, 2.0], [10.0, 20.0]
    journal = np.zeros(1, dtype=ROW_DTYPE_V3)
    journal["sensor"], journal["event_time"], journal["value"] = 4, 3.0, 30.0
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE journal (id INTEGER PRIMARY KEY, rows BLOB NOT NULL);
        CREATE TABLE blocks (sensor INTEGER NOT NULL, data BLOB NOT NULL);
    """)
    old.execute("INSERT INTO blocks VALUES (4, ?)", (block.tobytes(),))
    old.execute("INSERT INTO journal (id, rows) VALUES (1, ?)", (journal.tobytes(),))
    old.commit()
    old.close()
    store = SQLiteStore(f"sqlite:///{path}")
    history = store.history(4, 0.0, 1e9)
    store.close()
    assert history.value.tolist() == [10.0, 20.0, 30.0]
    assert np.isnan(history.anomaly).all()



def test_a_seal_checkpoints_the_wal_into_the_file_so_no_commit_has_to(tmp_path: Path) -> None:
    path = tmp_path / "twin.sqlite"
    store = SQLiteStore(f"sqlite:///{path}?seal_rows=1")
    try:
        before = path.stat().st_size
        rows = list(range(50)) * 400  # 20,000 readings, ~1.2 MB once sealed
        store.commit(batch_of(rows, [float(t) for t in range(len(rows))],
                              [20.0] * len(rows)), [])
        store.seal()
        assert store.counts()["readings"] == len(rows)
        # The seal's pages were copied from the WAL into the file by the seal itself.
        assert path.stat().st_size - before > 1_000_000
    finally:
        store.close()
