"""The SQLite store's segments in parts: read across part boundaries, older inline segments
read in place, and a seal cut off after its parts loses nothing and leaves nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from tests.store.conftest import batch_of

from twinsync.errors import InvalidInput, StoreError
from twinsync.store import sqlite as sqlite_module
from twinsync.store.check import check_store
from twinsync.store.sqlite import SQLiteStore
from twinsync.store.tiers import ROW_DTYPE


def _commit_and_seal(store: SQLiteStore, rows: list[int], first_time: float) -> None:
    times = [first_time + k for k in range(len(rows))]
    store.commit(batch_of(rows, times, [float(t) for t in times]), [])
    store.seal()


def _parts(path: Path) -> list[tuple[int, str, int]]:
    with sqlite3.connect(path) as c:
        return c.execute("SELECT segment, field, part FROM segment_parts"
                         " ORDER BY segment, field, part").fetchall()


def test_a_store_whose_segments_straddle_small_parts_passes_the_conformance_check(
        tmp_path: Path) -> None:
    # 100-byte parts: a 60-byte reading and a 16-byte directory pair often straddle two.
    check_store(lambda: SQLiteStore(
        f"sqlite:///{tmp_path / 'twin.sqlite'}?seal_rows=1&part_bytes=100"))


def test_a_seal_writes_each_field_in_parts_of_the_given_size(tmp_path: Path) -> None:
    path = tmp_path / "twin.sqlite"
    store = SQLiteStore(f"sqlite:///{path}?part_bytes=1000")
    try:
        _commit_and_seal(store, [k % 7 for k in range(50)], 0.0)  # 3,200 bytes of readings
        history = store.history(3, 0.0, 1e9)
    finally:
        store.close()
    parts = _parts(path)
    assert [p for s, f, p in parts if f == "data"] == [0, 1, 2, 3]
    assert {s for s, _, _ in parts} == {1}
    assert history.event_time.tolist() == [float(t) for t in range(3, 50, 7)]


def test_segments_of_the_inline_layout_are_read_in_place_beside_new_ones(
        tmp_path: Path) -> None:
    path = tmp_path / "twin.sqlite"
    old = SQLiteStore(f"sqlite:///{path}?part_bytes=0")  # fields inline: version 2's layout
    _commit_and_seal(old, [0, 1, 2] * 10, 0.0)
    old.close()
    with sqlite3.connect(path) as c:  # make it exactly a file of version 2
        c.execute("DROP TABLE segment_parts")
        c.execute("ALTER TABLE segments DROP COLUMN part_bytes")
        c.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")

    store = SQLiteStore(f"sqlite:///{path}?part_bytes=64")
    try:
        _commit_and_seal(store, [0, 1, 2] * 10, 100.0)
        history = store.history(1, 0.0, 1e9)
        aggregates = store.aggregates()
        rows, _ = store.recent_sequences(segments=2)
        total = store.counts()["readings"]
    finally:
        store.close()
    assert history.event_time.tolist() == [*range(1, 30, 3), *range(101, 130, 3)]
    assert aggregates.count.tolist() == [20, 20, 20]
    assert len(rows) == 60 and total == 60
    with sqlite3.connect(path) as c:
        layouts = c.execute("SELECT part_bytes FROM segments ORDER BY id").fetchall()
        (version,) = c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert layouts == [(0,), (64,)]
    assert version == sqlite_module.SCHEMA_VERSION


def test_a_seal_cut_off_after_its_parts_loses_no_reading_and_its_parts_go(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "twin.sqlite"
    store = SQLiteStore(f"sqlite:///{path}?part_bytes=128")
    try:
        def cut_off(*args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        with monkeypatch.context() as patch:
            patch.setattr(sqlite_module, "insert_segment", cut_off)
            store.commit(batch_of([0, 1] * 20, [float(t) for t in range(40)], [1.0] * 40), [])
            with pytest.raises(StoreError, match="disk I/O error"):
                store.seal()
        assert _parts(path), "the parts were written before the cut"
        assert store.counts()["readings"] == 40
        assert len(store.history(0, 0.0, 1e9).value) == 20

        _commit_and_seal(store, [0, 1] * 5, 100.0)
        assert store.counts()["readings"] == 50
        assert len(store.history(0, 0.0, 1e9).value) == 25
    finally:
        store.close()
    assert {segment for segment, _, _ in _parts(path)} == {1}, "only the sealed one's parts"


def test_a_negative_part_size_is_refused() -> None:
    with pytest.raises(InvalidInput, match="part_bytes"):
        SQLiteStore("sqlite://:memory:?part_bytes=-1")


def test_a_range_of_a_field_is_the_same_bytes_whatever_the_part_size(tmp_path: Path) -> None:
    from twinsync.store.sqlite_segments import FIELDS, SegmentField

    fields = {}
    for part_bytes in (0, 7, 64, 4096):
        path = tmp_path / f"twin-{part_bytes}.sqlite"
        store = SQLiteStore(f"sqlite:///{path}?part_bytes={part_bytes}")
        _commit_and_seal(store, [k % 5 for k in range(40)], 0.0)
        store.close()
        with sqlite3.connect(path) as c:
            fields[part_bytes] = {
                field: (SegmentField(c, 1, part_bytes, field).whole(),
                        SegmentField(c, 1, part_bytes, field).read(5, 40))
                for field in FIELDS}
            # Past the end a read is short, as an inline blob's is: the directory's
            # 48 bytes hold only 8 after byte 40.
            assert len(SegmentField(c, 1, part_bytes, "offsets").read(40, 16)) == 8
    for part_bytes in (7, 64, 4096):
        assert fields[part_bytes] == fields[0]
    whole, window = fields[0]["data"]
    assert window == whole[5:45] and len(whole) == 40 * ROW_DTYPE.itemsize
    assert np.frombuffer(fields[0]["offsets"][0], dtype="<i8").tolist() == [0, 8, 16, 24, 32, 40]

