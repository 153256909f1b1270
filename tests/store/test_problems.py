"""Start-up never fails on one bad stored row: every tiered store skips a row it cannot
decode, says which and why in ``load_problems()``, and answers with the rest."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable

import psycopg
import pytest
from psycopg import sql
from tests.store.conftest import batch_of

from twinsync.model import Binding, Element, Event, Sensor, Transform
from twinsync.model.site_events import SiteEvent
from twinsync.store import open_store
from twinsync.store.postgres_schema import target_of
from twinsync.store.sqlite import path_of

RawSQL = Callable[[str, tuple[object, ...]], None]


def raw_sql(url: str) -> RawSQL:
    """Run a statement on the store's tables behind its back, as damage would."""
    if url.startswith("sqlite"):
        path, _ = path_of(url)

        def run_sqlite(statement: str, params: tuple[object, ...]) -> None:
            with sqlite3.connect(path) as c:
                c.execute(statement.replace("%s", "?"), params)
        return run_sqlite
    target = target_of(url)

    def run_postgres(statement: str, params: tuple[object, ...]) -> None:
        with psycopg.connect(target.conninfo, autocommit=True) as c:
            c.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(target.schema)))
            c.execute(statement.encode(), params)
    return run_postgres


def _twin(url: str) -> None:
    store = open_store(url)
    try:
        store.save_changes(
            [Event("alarm_raised", 1.0, "good", "alerts", {"key": "a"}),
             Event("alarm_raised", 2.0, "good", "alerts", {"key": "b"})],
            elements=[Element("good", "IfcSlab"), Element("bad-json", "IfcWall"),
                      Element("no-type", "IfcWall")],
            sensors=[(0, Sensor("s0", "temperature", "degC")),
                     (1, Sensor("s1", "temperature", "degC")),
                     (2, Sensor("s2", "strain"))],
            bindings=[Binding("s0", "good", "t"),
                      Binding("s1", "good", "u", Transform(2.0, 0.0)),
                      Binding("s2", "bad-json", "v")])
    finally:
        store.close()


def test_rows_that_no_longer_decode_are_reported_and_skipped_and_the_rest_loads(
        store_url: str) -> None:
    _twin(store_url)
    damage = raw_sql(store_url)
    damage("UPDATE elements SET body = %s WHERE id = 'bad-json'", (b"{not json",))
    damage("UPDATE elements SET body = %s WHERE id = 'no-type'", (b'{"id": "no-type"}',))
    # A NaN gain was saved as null before gains were validated.
    damage("UPDATE bindings SET body = %s WHERE sensor_id = 's1'",
           (b'{"sensor_id": "s1", "element_id": "good", "property": "u",'
            b' "transform": {"gain": null, "offset": 0.0, "unit": ""}}',))
    damage("UPDATE sensors SET body = %s WHERE id = 's2'", (b"\xff\xfe",))
    damage("UPDATE events SET data = %s WHERE seq = (SELECT MIN(seq) FROM events)",
           (b"[1, 2",))

    store = open_store(store_url)
    try:
        elements, sensors, bindings = store.load_twin()
        assert [e.id for e in elements] == ["good"]
        # A sensor keeps its row, which its history refers to, marked with the problem.
        assert [(row, s.id) for row, s in sensors] == [(0, "s0"), (1, "s1"), (2, "s2")]
        assert "load_problem" in sensors[2][1].meta
        assert [b.sensor_id for b in bindings] == ["s0"]
        alarms = store.events(kind="alarm_raised")
        assert [e.data for e in alarms] == [{"key": "b"}]
        problems = {(p.table, p.key) for p in store.load_problems()}
        first_event = min(e.seq or 0 for e in alarms) - 1
        assert problems == {("elements", "bad-json"), ("elements", "no-type"),
                            ("bindings", "s1"), ("sensors", "s2"), ("bindings", "s2"),
                            ("events", str(first_event))}
    finally:
        store.close()


def test_statistics_that_overflowed_are_left_out_and_the_other_sensors_keep_theirs(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.commit(batch_of([0, 0, 1], [1.0, 2.0, 1.0], [1e308, 1e308, 5.0]), [])
        for when in ("hot", "sealed"):
            aggregates = store.aggregates()
            assert aggregates.rows.tolist() == [1], when
            assert aggregates.mean.tolist() == [5.0]
            store.seal()
        assert [(p.table, p.key) for p in store.load_problems()] == [
            ("aggregates", "sensor row 0")]
        # The readings themselves are kept: only the restart statistics are left out.
        assert len(store.history(0, 0.0, 10.0).value) == 2
    finally:
        store.close()


def test_a_journal_row_that_is_not_whole_readings_becomes_a_dead_letter_on_opening(
        store_url: str) -> None:
    store = open_store(store_url)
    store.commit(batch_of([0], [1.0], [2.0]), [])
    store.close()
    raw_sql(store_url)("INSERT INTO journal (rows) VALUES (%s)", (b"seven b",))
    store = open_store(store_url)
    try:
        assert store.counts()["readings"] == 1
        (letter,) = store.dead_letters()
        assert letter.reason == "corrupt_journal_row" and letter.payload == b"seven b"
        assert [p.table for p in store.load_problems()] == ["journal"]
    finally:
        store.close()
    reopened = open_store(store_url)
    try:
        assert reopened.load_problems() == []  # set aside once, not again
    finally:
        reopened.close()


def test_a_snapshot_stored_as_text_is_reported_and_loads_as_never_saved(
        tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    store = open_store(url)
    store.save_snapshot("health", b"\x00body")
    store.close()
    # SQLite keeps whatever type is written; PostgreSQL's bytea column cannot hold text.
    raw_sql(url)("UPDATE snapshots SET body = %s WHERE name = 'health'", ("text",))
    store = open_store(url)
    try:
        assert store.load_snapshot("health") is None
        assert [(p.table, p.key) for p in store.load_problems()] == [("snapshots", "health")]
    finally:
        store.close()


def test_a_sensor_with_a_non_finite_interval_is_kept_bare(store_url: str) -> None:
    store = open_store(store_url)
    store.save_changes([], sensors=[(0, Sensor("s0", "temperature", "degC", 60.0))])
    store.close()
    raw_sql(store_url)("UPDATE sensors SET body = %s WHERE id = 's0'",
                       (b'{"id": "s0", "kind": "temperature", "expected_interval": 1e999}',))
    store = open_store(store_url)
    try:
        [(row, sensor)] = store.load_twin()[1]
        assert (row, sensor.id, sensor.expected_interval) == (0, "s0", 0.0)
        assert not math.isinf(sensor.expected_interval)
    finally:
        store.close()


@pytest.mark.parametrize("body", [b"null", b"[]", b'{"id": 3}'])
def test_an_element_body_of_the_wrong_shape_is_skipped(store_url: str, body: bytes) -> None:
    store = open_store(store_url)
    store.save_changes([], elements=[Element("e", "IfcSlab"), Element("f", "IfcSlab")])
    store.close()
    raw_sql(store_url)("UPDATE elements SET body = %s WHERE id = 'e'", (body,))
    store = open_store(store_url)
    try:
        assert [e.id for e in store.load_twin()[0]] == ["f"]
    finally:
        store.close()


@pytest.mark.parametrize("body", [b"{", b'{"id": "a", "kind": "pour"}',
                                  b'{"id": "z", "kind": "pour", "start": 1, "end": 2}'])
def test_a_site_event_that_no_longer_reads_is_reported_and_the_others_load(
        store_url: str, body: bytes) -> None:
    events = [SiteEvent("a", "pour", 1.0, 2.0, ["slab"]), SiteEvent("b", "heating", 3.0, 4.0)]
    store = open_store(store_url)
    store.save_changes([], site_events=events)
    store.close()
    raw_sql(store_url)("UPDATE site_events SET body = %s WHERE id = 'a'", (body,))
    store = open_store(store_url)
    try:
        assert store.load_site_events() == events[1:]
        assert [(p.table, p.key) for p in store.load_problems()] == [("site_events", "a")]
    finally:
        store.close()


def test_a_sealed_segment_whose_bytes_are_damaged_does_not_stop_the_store_opening(
        store_url: str) -> None:
    store = open_store(store_url)
    store.commit(batch_of([0, 1], [1.0, 2.0], [3.0, 4.0]), [])
    store.seal()
    store.commit(batch_of([1], [3.0], [5.0]), [])  # hot, kept in the journal
    store.close()
    damage = raw_sql(store_url)
    for field in ("data", "summary"):
        if store_url.startswith("sqlite"):
            damage("UPDATE segment_parts SET bytes = %s WHERE field = %s", (b"\x01\x02", field))
        else:
            damage(f"UPDATE segments SET {field} = %s", (b"\x01\x02",))
    store = open_store(store_url)
    try:
        rows, seqs = store.recent_sequences()
        assert (rows.tolist(), seqs.tolist()) == ([1], [0])  # the hot reading's
        aggregates = store.aggregates()
        assert aggregates.rows.tolist() == [1] and aggregates.count.tolist() == [1]
        assert {(p.table, p.reason.split(" ")[0]) for p in store.load_problems()} == {
            ("segments", "data"), ("segments", "summary")}
    finally:
        store.close()
