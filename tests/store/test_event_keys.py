"""A measurement's event is found by its element and id in one look-up, whatever the
element's history, in both stores; a store written before the index existed fills it when
it is opened, and keeps its readings as they were."""

from __future__ import annotations

from typing import Any

from tests.store.conftest import batch_of, raw

from twinsync.model import Event
from twinsync.store import open_store


def _measured(element_id: str, key: str, value: float) -> Event:
    return Event("property_changed", 5.0, element_id, "field",
                 {"property": "t", "value": value, "measured": {"id": key, "value": value}})


def _make_old(url: str) -> tuple[Event, Event]:
    """A database as the twinsync before the index left it: two measurements recorded
    under ids among other events, fifteen readings in one journal row (15 rows of 64 bytes is
    also a whole number of the 60-byte rows of the layout before anomaly scores), no
    index, the schema version before it."""
    store = open_store(url)
    first, second = _measured("wall", "phone/1", 20.0), _measured("slab", "phone/9", 21.0)
    store.save_changes([first, *(Event("property_changed", 5.0, "wall", "field",
                                       {"property": "t", "value": float(i)})
                                 for i in range(30)), second])
    store.commit(batch_of([0] * 15, [float(t) for t in range(15)],
                          [float(v) for v in range(15)]), [])
    store.close()
    sqlite = url.startswith("sqlite")
    mark = "?" if sqlite else "%s"
    with raw(url) as c:
        c.execute("DROP TABLE event_keys")
        c.execute(f"UPDATE meta SET value = {mark} WHERE key = 'schema_version'",
                  ("4" if sqlite else "2",))
    return first, second


def test_a_store_written_before_the_index_fills_it_when_opened_and_keeps_its_journal(
        store_url: str) -> None:
    first, second = _make_old(store_url)
    store = open_store(store_url)
    try:
        assert store.keyed_event("wall", "phone/1") == first
        assert store.keyed_event("slab", "phone/9") == second
        assert store.keyed_event("wall", "phone/9") is None
        # The journal row of this layout was read as it is, not widened again.
        history = store.history(0, 0.0, 1e9)
        assert history.value.tolist() == [float(v) for v in range(15)]
        assert store.load_problems() == []
    finally:
        store.close()


def test_a_measurement_is_found_by_id_among_many_changes_of_its_element(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.save_changes([Event("property_changed", 1.0, "wall", "field",
                                  {"property": "note", "value": str(i)})
                            for i in range(2_500)])
        recorded = _measured("wall", "phone/1", 19.5)
        store.save_changes([recorded])
        assert store.keyed_event("wall", "phone/1") == recorded
    finally:
        store.close()


def _in_doubt(store: Any, schema_url: str, data: str) -> None:
    """What a write of wall's measurement phone/1 left committed when its COMMIT's answer
    was lost: its event and key, and the store told the write is in doubt."""
    from twinsync.store.postgres import InDoubt

    with raw(schema_url) as c, c.transaction():
        xid = c.execute("SELECT pg_current_xact_id()::text").fetchone()
        seq = c.execute("INSERT INTO events (kind, time, element_id, source, data) "
                        "VALUES ('property_changed', 5, 'wall', 'field', %s) "
                        "RETURNING seq", (data,)).fetchone()
        assert xid and seq
        c.execute("INSERT INTO event_keys VALUES ('wall', 'phone/1', %s)", (seq[0],))
    store._in_doubt = InDoubt(event_seqs=[int(seq[0])], xid=str(xid[0]))


def test_a_measurement_taken_back_after_a_lost_commit_is_found_when_sent_again(
        schema_url: str) -> None:
    """PostgreSQL: a write whose COMMIT was lost but happened is taken back before the
    next one (the caller was told it failed); its key goes with its event, so the
    measurement sent again is recorded and found under its id."""
    from twinsync.store.postgres import PostgresStore

    store = PostgresStore(schema_url)
    try:
        _in_doubt(store, schema_url, "{}")
        again = _measured("wall", "phone/1", 20.0)
        store.save_changes([again])
        assert store.keyed_event("wall", "phone/1") == again
    finally:
        store.close()


def test_a_measurement_whose_commit_is_in_doubt_is_not_found_before_its_fate_is_settled(
        schema_url: str) -> None:
    """PostgreSQL: a write whose COMMIT was lost, its fate not known when it failed (the
    caller was told it failed), did happen. A retry's look-up must not answer with its
    event: the next write takes it back, and the retry, answered "recorded already",
    would be lost. The look-up settles the doubt first, as a write does."""
    from twinsync.store.postgres import PostgresStore

    store = PostgresStore(schema_url)
    try:
        _in_doubt(store, schema_url, '{"property": "t", "measured": {"id": "phone/1"}}')
        # The look-up settles the doubt (taking the write back) before it answers.
        assert store.keyed_event("wall", "phone/1") is None
        store.save_changes([Event("property_changed", 6.0, "slab", "field",
                                  {"property": "t", "value": 1.0})])
        # And the next write finds nothing left to take back that would bring it back.
        assert store.keyed_event("wall", "phone/1") is None
    finally:
        store.close()


def test_a_store_with_an_undecodable_event_is_upgraded_and_its_measurements_found(
        store_url: str) -> None:
    """An older store holding a damaged ``property_changed`` row (its data not JSON) among
    its measurements: the upgrade's pass reports it and indexes the rest, and the store
    opens and answers as it did."""
    first, second = _make_old(store_url)
    mark = "?" if store_url.startswith("sqlite") else "%s"
    with raw(store_url) as c:
        c.execute("INSERT INTO events (kind, time, element_id, source, data) VALUES "
                  f"('property_changed', 5, 'wall', 'field', {mark})", (b"\xff{not json",))
    store = open_store(store_url)
    try:
        assert store.keyed_event("wall", "phone/1") == first
        assert store.keyed_event("slab", "phone/9") == second
        assert [p.table for p in store.load_problems()] == ["events"]
    finally:
        store.close()
