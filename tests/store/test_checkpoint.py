"""Where the saved learned state stands in the journal (``store/checkpoint.py``), alike in
every tiered store: positions grow in commit order and never come back, a sealed batch
stays in the journal for a replay until a save covers it (and is then gone), a state and
its position are saved together, and a reopened store reads each reading once."""

from __future__ import annotations

from tests.store.conftest import batch_of

from twinsync.store import open_store


def commit(store: object, count: int, first: int) -> list[int]:
    """``count`` batches of two readings; the positions after each."""
    positions = []
    for number in range(first, first + count):
        store.commit(batch_of([0, 1], [float(number), float(number)],  # type: ignore[attr-defined]
                              [1.0, 2.0]), [])
        positions.append(store.position())  # type: ignore[attr-defined]
    return positions


def test_a_new_store_replays_from_the_start_and_positions_grow_in_commit_order(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert store.state_position() == 0 and store.position() == 0
        positions = commit(store, 5, 0)
        assert positions == sorted(set(positions)) and positions[0] > 0
        assert [journal_id for journal_id, _ in store.batches_after(0)] == positions
        assert [journal_id for journal_id, _ in store.batches_after(positions[1], 2)] == \
            positions[2:4]
        rows = store.batches_after(positions[3])[0][1]
        assert rows["sensor"].tolist() == [0, 1] and rows["event_time"].tolist() == [4.0, 4.0]
    finally:
        store.close()


def test_sealed_batches_stay_for_a_replay_until_a_save_covers_them(store_url: str) -> None:
    store = open_store(store_url)
    try:
        positions = commit(store, 6, 0)
        store.save_state({"health": b"before"}, positions[2])
        assert store.seal() == 12
        # Sealed: the three batches after the save stay in the journal, for a replay.
        assert [j for j, _ in store.batches_after(positions[2])] == positions[3:]
        assert store.counts()["readings"] == 12
    finally:
        store.close()
    store = open_store(store_url)
    try:
        # Reopened: what is sealed is read from its segment only, not again as hot rows.
        assert store.counts()["readings"] == 12
        assert store.history(0, 0.0, 100.0).event_time.tolist() == [0, 1, 2, 3, 4, 5]
        assert store.state_position() == positions[2]
        assert store.position() == positions[-1]
        later = commit(store, 1, 6)
        assert later[0] > positions[-1]
        store.save_state({"health": b"after", "anomaly": b"a"}, later[0])
        assert store.load_snapshot("health") == b"after"
        assert store.load_snapshot("anomaly") == b"a"
        # The sealed batches it covers are gone; the one not sealed yet stays.
        assert [j for j, _ in store.batches_after(0)] == later
        store.seal()
        assert store.batches_after(0) == []  # sealed and covered: gone
    finally:
        store.close()
    store = open_store(store_url)
    try:
        # Ids never come back, though the journal was emptied.
        assert store.position() == later[0]
        assert commit(store, 1, 7)[0] > later[0]
        assert store.counts()["readings"] == 16
    finally:
        store.close()
