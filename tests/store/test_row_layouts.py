"""Readings stored before anomaly scores were kept: both stores open such a database,
read its readings back with a score of NaN, and keep scores of readings stored since."""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.store.conftest import batch_of, raw

from twinsync.store import open_store
from twinsync.store.tiers import ROW_DTYPE, ROW_DTYPE_V3, widened


def _narrowed(packed: bytes) -> bytes:
    """Rows of this layout as the layout before anomaly scores wrote them."""
    rows = np.frombuffer(packed, dtype=ROW_DTYPE)
    old = np.zeros(len(rows), dtype=ROW_DTYPE_V3)
    for name in ROW_DTYPE_V3.names or ():
        old[name] = rows[name]
    return old.tobytes()


def _make_old(url: str) -> None:
    """A database as the twinsync before anomaly scores left it: one sealed segment and
    one journal row of 60-byte readings, no ``row_bytes``, the older schema version."""
    store = open_store(url)
    store.commit(batch_of([0, 1, 0], [10.0, 11.0, 12.0], [1.0, 2.0, 3.0]), [])
    store.seal()
    store.commit(batch_of([0], [13.0], [4.0]), [])
    store.close()
    sqlite = url.startswith("sqlite")
    mark = "?" if sqlite else "%s"
    with raw(url) as c:
        for table, column in (("segments", "data"), ("journal", "rows")):
            for key, packed in c.execute(f"SELECT id, {column} FROM {table}").fetchall():
                c.execute(f"UPDATE {table} SET {column} = {mark} WHERE id = {mark}",
                          (_narrowed(bytes(packed)), key))
        c.execute("ALTER TABLE segments DROP COLUMN row_bytes")
        c.execute(f"UPDATE meta SET value = {mark} WHERE key = 'schema_version'",
                  ("3" if sqlite else "1",))


def test_a_database_of_readings_without_scores_reads_them_back_unscored_and_keeps_new_ones(
        store_url: str) -> None:
    # SQLite: segments inline (schema version 2's and 3's way), so the test can narrow them.
    url = store_url + ("&part_bytes=0" if store_url.startswith("sqlite") else "")
    _make_old(url)
    store = open_store(url)
    try:
        before = store.history(0, 0.0, 1e9)
        assert before.value.tolist() == [1.0, 3.0, 4.0]  # sealed and journal alike
        assert np.isnan(before.anomaly).all()
        scored = dataclasses.replace(batch_of([0, 0], [14.0, 15.0], [5.0, 6.0]),
                                     anomaly=np.array([0.25, 0.75]))
        store.commit(scored, [])
        store.seal()  # the old segment beside a new one
        after = store.history(0, 0.0, 1e9)
        buckets = store.downsample(0, 0.0, 20.0, 10.0)
        sequences = store.recent_sequences(segments=2)
    finally:
        store.close()
    assert after.value.tolist() == [1.0, 3.0, 4.0, 5.0, 6.0]
    assert np.isnan(after.anomaly[:3]).all() and after.anomaly[3:].tolist() == [0.25, 0.75]
    assert buckets.count.tolist() == [5] and buckets.anomaly.tolist() == [0.75]
    assert sorted(zip(*(s.tolist() for s in sequences), strict=True)) == [
        (0, 0), (0, 0), (0, 0), (0, 1), (0, 2), (1, 1)]


def test_rows_of_an_unknown_width_are_refused_not_guessed() -> None:
    try:
        widened(bytes(62), 62)
    except ValueError as exc:
        assert "rows of 62 bytes" in str(exc)
    else:
        raise AssertionError("a width no layout has was read")
