"""One conformance check for every ``Store`` (as river's ``check_estimator``).

``check_store(make_store)`` drives a fresh store through every method of the protocol and
compares each answer with one worked out here from the inputs alone. A store that seals
(moves readings between tiers) is checked before and after a seal; a store on a file is
closed and opened again, and must answer the same. Dead letters must keep to their bounds
(``dead_letters``) and a sound store reports no load problems.

    def test_the_sqlite_store_conforms(tmp_path):
        check_store(lambda: SQLiteStore(f"sqlite:///{tmp_path / 'twin.sqlite'}"))
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence

import numpy as np
import orjson

from ..model import Binding, Element, Event, Sensor, Transform
from ..model.site_events import SiteEvent
from ..pipeline import Batch, DeadLetter, Flag
from .audit import Actor, AuditEntry, AuditQuery
from .base import SensorAggregates, Store

#: (sensor row, event time, value, flags) of every reading the check commits, per batch.
BATCHES: tuple[tuple[tuple[int, float, float, int], ...], ...] = (
    ((0, 10.0, 1.0, 0), (1, 11.0, 5.0, 0), (0, 12.0, 3.0, 0), (1, 13.0, 7.0, 0),
     (0, 5.0, -2.0, 0)),                      # the last one arrives out of order
    ((0, 100.0, 50.0, Flag.LATE), (1, 14.0, 6.0, 0), (0, 12.0, 4.0, 0)),  # a tie at 12
    ((0, 20.0, 2.5, 0), (1, 9.0, 8.0, 0)),    # committed after the seal: hot again
)

#: What each of the first two batches counts, for the running totals; a count may be
#: negative (a gap counted as lost that a later batch fills).
BATCH_COUNTS: tuple[dict[str, int], ...] = ({"accepted": 5, "lost": 2, "duplicates": 0},
                                            {"accepted": 3, "late": 1, "lost": -1})


def _expect(condition: bool, message: str) -> None:
    # Not ``assert``: the check must hold under ``python -O`` too.
    if not condition:
        raise AssertionError(message)


def anomaly_of(value: float, flags: int) -> float:
    """The anomaly score the check gives a reading: one from its value, so that a store
    that moves scores between readings is caught; NaN (not scored) for a late one."""
    return float("nan") if flags & Flag.LATE else abs(value) / 100.0


def _batch(readings: Sequence[tuple[int, float, float, int]], first_seq: int) -> Batch:
    rows, times, values, flags = (np.array(c) for c in zip(*readings, strict=True))
    n = len(rows)
    anomaly = np.array([anomaly_of(v, f) for _, _, v, f in readings])
    return Batch(rows=rows.astype(np.int64), value=values.astype(np.float64),
                 raw_value=values.astype(np.float64) / 2, event_time=times.astype(np.float64),
                 received_at=np.full(n, 1000.0 + first_seq),
                 seq=np.arange(first_seq, first_seq + n, dtype=np.int64), source="check",
                 connector="check", quality=np.full(n, 0.5), flags=flags.astype(np.int64),
                 anomaly=anomaly)


def expected_aggregates(readings: Sequence[tuple[int, float, float, int]]) -> SensorAggregates:
    """Aggregates from readings in commit order: what the live table would hold."""
    by_row: dict[int, list[tuple[float, float, int]]] = {}
    for row, event_time, value, flags in readings:
        by_row.setdefault(row, []).append((event_time, value, flags))
    rows = sorted(by_row)
    columns: dict[str, list[float]] = {k: [] for k in (
        "count", "last_value", "last_time", "mean", "m2", "min", "max", "first")}
    for row in rows:
        values = np.array([v for _, v, _ in by_row[row]])
        live = [(t, i, v) for i, (t, v, f) in enumerate(by_row[row]) if not f & Flag.LATE]
        newest = max(live) if live else (-np.inf, 0, np.nan)  # a tie: the later commit wins
        columns["count"].append(len(values))
        columns["last_value"].append(newest[2])
        columns["last_time"].append(newest[0])
        columns["mean"].append(values.mean())
        columns["m2"].append(float(((values - values.mean()) ** 2).sum()))
        columns["min"].append(values.min())
        columns["max"].append(values.max())
        columns["first"].append(min(t for t, _, _ in by_row[row]))
    c = {k: np.array(v, dtype=np.float64) for k, v in columns.items()}
    return SensorAggregates(np.array(rows, dtype=np.int64), c["count"].astype(np.int64),
                            c["last_value"], c["last_time"], np.zeros(len(rows)), c["mean"],
                            c["m2"], c["min"], c["max"], c["first"])


def _check_aggregates(store: Store, readings: Sequence[tuple[int, float, float, int]],
                      when: str) -> None:
    got, want = store.aggregates(), expected_aggregates(readings)
    _expect(got.rows.tolist() == want.rows.tolist(), f"aggregates {when}: rows {got.rows}")
    for name in ("count", "last_value", "last_event_time", "mean", "m2", "minimum", "maximum",
                 "first_event_time"):
        _expect(np.allclose(getattr(got, name), getattr(want, name), equal_nan=True),
                f"aggregates {when}: {name} is {getattr(got, name)}, "
                f"expected {getattr(want, name)}")


def _check_twin(store: Store) -> None:
    elements = [Element("slab-1", "IfcSlab", name="Slab 1"), Element("wall-1", "IfcWall")]
    sensors = [(0, Sensor("t0", "temperature", "degC", 60.0)),
               (1, Sensor("t1", "temperature", "degC")), (2, Sensor("idle", "strain", ""))]
    bindings = [Binding("t0", "slab-1", "core_temperature", Transform(1.01, -0.2, "degC")),
                Binding("t1", "wall-1", "surface_temperature")]
    added = Event("element_added", 1.0, "slab-1", "bim", {"type": "IfcSlab"})
    store.save_changes([added], elements=elements, sensors=sensors, bindings=bindings)
    _expect(isinstance(added.seq, int), "save_changes assigns each event a seq")
    store.save_changes([], unbound=["t1"])
    loaded_elements, loaded_sensors, loaded_bindings = store.load_twin()
    _expect(sorted(e.to_dict()["id"] for e in loaded_elements) == ["slab-1", "wall-1"],
            "load_twin returns the saved elements")
    _expect([(row, s.to_dict()) for row, s in loaded_sensors]
            == [(row, s.to_dict()) for row, s in sensors],
            "load_twin returns sensors with their rows, in row order")
    _expect([b.to_dict() for b in loaded_bindings] == [bindings[0].to_dict()],
            "load_twin returns bindings, without the unbound one")


def _check_readings(store: Store, committed: list[tuple[int, float, float, int]]) -> None:
    row_0 = sorted(((t, v) for r, t, v, _ in committed if r == 0), key=lambda tv: tv[0])
    scored = sorted(((t, anomaly_of(v, f)) for r, t, v, f in committed if r == 0),
                    key=lambda ts: ts[0])
    history = store.history(0, 0.0, 1e9)
    _expect(history.event_time.tolist() == [t for t, _ in row_0],
            f"history is ordered by event time: {history.event_time.tolist()}")
    _expect(history.value.tolist() == [v for _, v in row_0],
            "history keeps values, readings with the same time in commit order")
    _expect(np.allclose(history.raw_value, history.value / 2)
            and np.allclose(history.quality, 0.5), "history keeps raw values and quality")
    _expect(((history.flags & Flag.LATE) != 0).sum() == 1, "history keeps flags")
    _expect(np.allclose(history.anomaly, [a for _, a in scored], atol=1e-6, equal_nan=True),
            f"history keeps each reading's anomaly score, NaN where none was: "
            f"{history.anomaly.tolist()}")
    limited = store.history(0, 0.0, 1e9, limit=2)
    _expect(limited.event_time.tolist() == [t for t, _ in row_0[:2]],
            "history's limit keeps the oldest readings")
    window = store.history(0, 10.0, 20.0)
    _expect(window.event_time.tolist() == [t for t, _ in row_0 if 10.0 <= t < 20.0],
            "history's window includes its start and excludes its end")
    _expect(len(store.history(2, 0.0, 1e9).event_time) == 0,
            "a sensor without readings has an empty history")
    buckets = store.downsample(0, 0.0, 1e9, 10.0)
    keys = sorted({int(t // 10) for t, _ in row_0})
    for name, reduce in (("minimum", min), ("maximum", max),
                         ("mean", lambda vs: sum(vs) / len(vs)), ("count", len)):
        want = [reduce([v for t, v in row_0 if int(t // 10) == k]) for k in keys]
        _expect(np.allclose(getattr(buckets, name), want),
                f"downsample's {name} per bucket is {getattr(buckets, name)}, expected {want}")
    _expect(buckets.start.tolist() == [k * 10.0 for k in keys], "buckets start on the grid")
    highest = [np.fmax.reduce([a for t, a in scored if int(t // 10) == k]) for k in keys]
    _expect(np.allclose(buckets.anomaly, highest, atol=1e-6, equal_nan=True),
            f"downsample's anomaly is the highest score per bucket (NaN: none scored): "
            f"{buckets.anomaly.tolist()}, expected {highest}")


def _check_dead_letter_retention_by_age(store: Store) -> None:
    """The first letter a store takes after opening runs the retention pass."""
    old = DeadLetter(time.time() - 31 * 86_400, "check", "unknown_sensor", "old", {})
    store.add_dead_letters([old])
    _expect(store.dead_letters() == [] and store.counts()["dead_letters"] == 0,
            "a dead letter older than 30 days is removed by the retention pass")


def _check_dead_letters_and_events(store: Store) -> None:
    now = time.time()
    letters = [DeadLetter(now, "check", "unknown_sensor", "no sensor 'x'", {"sensor_id": "x"}),
               DeadLetter(now, "check", "not_a_number", "value 'a'", b"\xff\x00 raw"),
               DeadLetter(now + 1, "check", "unknown_sensor", "no sensor 'y'", [1, "two"])]
    events = [Event("status_changed", 3.0, "wall-1", "field", {"status": "issue"}),
              Event("property_changed", 4.0, "slab-1", "field", {"property": "x"})]
    store.commit(_batch(((1, 30.0, 9.0, 0),), 90), letters[:2], events)
    store.add_dead_letters(letters[2:])
    ids = [letter.id or 0 for letter in letters]
    _expect(all(letter.id is not None for letter in letters) and ids == sorted(set(ids)),
            f"dead letters get increasing ids: {ids}")
    _expect(all(isinstance(e.seq, int) for e in events), "commit assigns each event a seq")
    page = store.dead_letters(limit=2)
    _expect([d.id for d in page] == ids[:2], "dead letters come oldest first, limit at a time")
    rest = store.dead_letters(after=page[-1].id or 0)
    _expect([d.id for d in rest] == ids[2:], "dead letters page on from an id")
    unknown = store.dead_letters(reason="unknown_sensor")
    _expect([d.id for d in unknown] == [ids[0], ids[2]], "dead letters filter by reason")
    _expect([d.payload for d in store.dead_letters()]
            == [{"sensor_id": "x"}, b"\xff\x00 raw", [1, "two"]],
            "payloads round-trip, raw bytes as bytes")
    _expect(store.dead_letters()[0].to_dict()["detail"] == "no sensor 'x'", "details are kept")
    recent = store.recent_events(limit=2)
    _expect([e.seq for e in recent] == [events[1].seq, events[0].seq],
            "recent events come newest first")
    newest = store.events(newest_first=True, limit=2)
    _expect([e.seq for e in newest] == [events[1].seq, events[0].seq],
            "events come newest first when asked")
    newest = store.events(newest_first=True, limit=1, kind="status_changed")
    _expect([e.seq for e in newest] == [events[0].seq], "the newest event of a kind")
    on_wall = store.events(element_id="wall-1")
    _expect([e.kind for e in on_wall] == ["status_changed"], "events filter by element")
    after = store.events(after=events[0].seq or 0)
    _expect([e.seq for e in after] == [events[1].seq] and after[0].data == {"property": "x"},
            "events page on from a seq and keep their data")


def _measured(element_id: str, key: str, value: float) -> Event:
    return Event("property_changed", 5.0, element_id, "field",
                 {"property": "t", "value": value, "measured": {"id": key, "value": value}})


def _check_keyed_events(store: Store) -> list[Event]:
    """Events that recorded a measurement under an id are found by element and id, the
    first under an id kept; returns the events found, for after reopening."""
    first = _measured("wall-1", "phone/1", 20.0)
    other_element = _measured("slab-1", "phone/1", 21.0)
    store.save_changes([first, Event("property_changed", 5.0, "wall-1", "field",
                                     {"property": "t", "value": 1.0})])
    store.commit(Batch.empty(), [], [other_element, _measured("wall-1", "phone/1", 22.0)])
    found = [store.keyed_event("wall-1", "phone/1"), store.keyed_event("slab-1", "phone/1")]
    _expect(found == [first, other_element],
            f"a measurement's event is found by its element and id, the first kept: {found}")
    _expect(store.keyed_event("wall-1", "phone/2") is None
            and store.keyed_event("roof", "phone/1") is None,
            "no event is found under an id no measurement of that element had")
    return [first, other_element]


#: Letters of ~60 KiB each, more than a 4 MiB page holds.
HEAVY_LETTERS = 80


def _check_dead_letter_bounds(store: Store) -> int:
    """A huge payload is summarised, long strings are cut, and pages stay under 4 MiB
    whatever is stored; returns how many letters it added."""
    now = time.time()
    body = {"readings": "x" * 300_000}
    huge = DeadLetter(now, "s" * 5000, "r" * 5000, "d" * 5000, body)
    store.add_dead_letters([huge])
    (kept,) = store.dead_letters(after=(huge.id or 1) - 1, limit=1)
    summary = kept.payload
    whole = orjson.dumps(body)
    _expect(isinstance(summary, dict) and summary.get("truncated") is True
            and summary.get("size") == len(whole)
            and summary.get("sha256") == hashlib.sha256(whole).hexdigest()
            and whole.decode().startswith(str(summary.get("head"))[:1000]),
            f"a payload over 64 KiB is kept as a summary with its size and hash: "
            f"{str(summary)[:200]}")
    _expect(all(len(text) < 1100 and "cut" in text
                for text in (kept.source, kept.reason, kept.detail)),
            "source, reason and detail are cut to 1 KiB, the cut said")
    raw = DeadLetter(now, "check", "raw", "raw", bytes(range(256)) * 1000)
    store.add_dead_letters([raw])
    (kept_raw,) = store.dead_letters(after=(raw.id or 1) - 1, limit=1)
    _expect(isinstance(kept_raw.payload, dict) and kept_raw.payload.get("size") == 256_000,
            "raw bytes over the bound are summarised too")
    heavy = [DeadLetter(now, "check", "heavy", f"heavy {n}", {"n": n, "pad": "p" * 60_000})
             for n in range(HEAVY_LETTERS)]
    store.add_dead_letters(heavy)
    first = heavy[0].id or 1
    seen: list[int] = []
    after = first - 1
    while page := store.dead_letters(after=after, limit=100, reason="heavy"):
        weight = sum(len(orjson.dumps(d.to_dict())) for d in page)
        _expect(weight < 5 * 1024 * 1024, f"a page of dead letters weighs {weight} bytes")
        seen += [d.id or 0 for d in page]
        after = seen[-1]
    _expect(seen == [d.id for d in heavy] and len(store.dead_letters(
        after=first - 1, limit=100, reason="heavy")) < HEAVY_LETTERS,
            "pages are cut by bytes and page on to every letter, each once")
    return 2 + HEAVY_LETTERS


#: Snapshot bodies are opaque bytes: NULs, high bytes and an empty one must round-trip.
SNAPSHOT_BODIES = (bytes(range(256)) * 40, b"", b"\x00second\xff")


def _check_snapshots(store: Store) -> None:
    _expect(store.load_snapshot("health") is None, "a snapshot never saved loads as None")
    store.save_snapshot("health", SNAPSHOT_BODIES[0])
    store.save_snapshot("other", SNAPSHOT_BODIES[1])
    _expect(store.load_snapshot("health") == SNAPSHOT_BODIES[0],
            "a snapshot loads back byte for byte")
    _expect(store.load_snapshot("other") == SNAPSHOT_BODIES[1], "an empty snapshot is kept")
    store.save_snapshot("health", SNAPSHOT_BODIES[2])
    _expect(store.load_snapshot("health") == SNAPSHOT_BODIES[2],
            "saving a snapshot again replaces it")


#: Rows of the twin's schedule: a file's bytes (NULs and high bytes) and JSON records.
PLAN_ROWS = (("file", "000000000001", b"ERMHDR\t19.12\r\n\x00\xe9\xff"),
             ("link", "A100", b'{"activity":"A100","elements":["slab-1"]}'),
             ("progress", "000000000002", b'{"number":2}'))


def _check_plan(store: Store) -> list[tuple[str, str, bytes]]:
    _expect(store.load_plan() == [], "a fresh store has no schedule rows")
    store.save_changes([], plan=PLAN_ROWS[:2])
    store.save_changes([], plan=PLAN_ROWS[2:])
    expected = sorted(PLAN_ROWS)
    _expect(store.load_plan() == expected, f"schedule rows load back by kind and key, byte "
            f"for byte: {store.load_plan()}")
    relinked = ("link", "A100", b'{"activity":"A100","elements":[]}')
    store.save_changes([], plan=[relinked])
    expected = sorted([*PLAN_ROWS[::2], relinked])
    _expect(store.load_plan() == expected, "a schedule row saved again replaces the old one")
    return expected


#: Declared site events: a pour on an element, a heating schedule of two sensors.
SITE_EVENTS = (SiteEvent("a1", "pour", 1000.0, 260_200.0, ["slab-1"], [], "bay 2 é",
                         900.0, "tablet-3"),
               SiteEvent("b2", "heating", 2000.0, 9000.0, [], ["t0", "t1"]))


def _check_site_events(store: Store, audited: list[AuditEntry]) -> list[SiteEvent]:
    """Site events are saved with their audit entry (added to ``audited``), replaced
    whole when saved again, and read back by id."""
    _expect(store.load_site_events() == [], "a fresh store has no site events")
    entry = AuditEntry("declare_event", "site_event:a1", AUDITORS[0], 900.0, None,
                       SITE_EVENTS[0].to_dict())
    store.save_changes([], site_events=SITE_EVENTS[:1], audit_entries=[entry])
    store.save_changes([], site_events=SITE_EVENTS[1:])
    _expect(store.load_site_events() == list(SITE_EVENTS),
            f"site events load back as saved, by id: {store.load_site_events()}")
    withdrawn = SiteEvent(**{**SITE_EVENTS[1].to_dict(), "withdrawn_at": 9500.0})
    store.save_changes([], site_events=[withdrawn])
    expected = [SITE_EVENTS[0], withdrawn]
    _expect(store.load_site_events() == expected, "a site event saved again replaces it")
    audited.append(entry)
    _expect(store.audit(AuditQuery()) == audited,
            "a site event's audit entry is written with it")
    return expected


#: Who made the check's audited changes: a person's token and the process itself.
AUDITORS = (Actor("tablet-3", "operator", "3f2a9c1b07de"), Actor("twinsync", "system"))


def _audit_entries() -> list[AuditEntry]:
    """Entries of three changes, two of one element, one of a binding, at times 100..102."""
    person, process = AUDITORS
    return [
        AuditEntry("update_element", "element:slab-1", person, 100.0, {"status": "planned"},
                   {"status": "in_progress"}, element_id="slab-1"),
        AuditEntry("bind_sensor", "binding:t0", process, 101.0, None,
                   {"sensor_id": "t0", "element_id": "slab-1", "values": [1.5, "é", None]},
                   element_id="slab-1", sensor_id="t0"),
        AuditEntry("update_element", "element:slab-1", person, 102.0,
                   {"properties": {"note": None}}, {"properties": {"note": {"value": 2}}},
                   element_id="slab-1"),
    ]


def _check_audit(store: Store) -> list[AuditEntry]:
    """Revisions and audit entries are written with a change and read back by filter."""
    entries = _audit_entries()
    store.save_changes([], revisions={"element:slab-1": 1, "binding:t0": 1},
                       audit_entries=entries[:2])
    store.save_changes([], revisions={"element:slab-1": 2}, audit_entries=entries[2:])
    _expect(store.revisions() == {"element:slab-1": 2, "binding:t0": 1},
            f"revisions are the last saved: {store.revisions()}")
    ids = [e.id for e in entries]
    _expect(all(isinstance(i, int) for i in ids) and ids == sorted(set(ids)),  # type: ignore[type-var]
            f"save_changes gives each audit entry a rising id: {ids}")
    _expect(store.audit(AuditQuery()) == entries, "audit returns every entry, oldest first")
    queries = {
        AuditQuery(element_id="slab-1"): entries,
        AuditQuery(sensor_id="t0"): entries[1:2],
        AuditQuery(token_id="3f2a9c1b07de"): entries[::2],
        AuditQuery(since=101.0, until=102.0): entries[1:2],
        AuditQuery(after=ids[0] or 0, limit=1): entries[1:2],
        AuditQuery(newest_first=True, limit=2): entries[:0:-1],
        AuditQuery(newest_first=True, before=ids[1]): entries[:1],
    }
    for query, expected in queries.items():
        got = store.audit(query)
        _expect(got == expected, f"audit({query}) gave {[e.id for e in got]}, "
                                 f"expected {[e.id for e in expected]}")
    standalone = AuditEntry("add_connector", "connector:gw", AUDITORS[0], 103.0, None,
                            {"kind": "mqtt"})
    store.add_audit([standalone])
    entries.append(standalone)
    _expect(store.audit(AuditQuery()) == entries, "add_audit keeps an entry on its own")
    return entries


def check_store(make_store: Callable[[], Store]) -> None:
    """Raise AssertionError where a store built by ``make_store`` breaks the contract."""
    store = make_store()
    durable = ":memory:" not in store.url
    try:
        health = store.health()
        _expect(health.get("connected") is True and health.get("reconnects") == 0,
                f"a fresh store is healthy: {health}")
        _check_dead_letter_retention_by_age(store)
        _check_twin(store)
        committed: list[tuple[int, float, float, int]] = []
        for number, readings in enumerate(BATCHES[:2]):
            store.commit(_batch(readings, 10 * number), [], counts=BATCH_COUNTS[number])
            committed.extend(readings)
        _check_aggregates(store, committed, "of hot readings")
        _check_readings(store, committed)
        # It may have sealed some on its own already; then nothing is left to seal.
        _expect(0 <= store.seal() <= len(committed), "seal reports how many readings it sealed")
        _expect(store.seal() == 0, "a second seal finds nothing left to seal")
        _check_aggregates(store, committed, "after a seal")
        _check_readings(store, committed)
        store.commit(_batch(BATCHES[2], 20), [])
        committed.extend(BATCHES[2])
        _check_aggregates(store, committed, "of sealed and hot readings")
        _check_readings(store, committed)
        _check_dead_letters_and_events(store)
        keyed = _check_keyed_events(store)
        _check_snapshots(store)
        planned = _check_plan(store)
        audited = _check_audit(store)
        declared = _check_site_events(store, audited)
        committed.append((1, 30.0, 9.0, 0))
        counts = {"elements": 2, "sensors": 3, "readings": len(committed), "events": 7,
                  "dead_letters": 3}
        _expect(store.counts() == counts, f"counts are {store.counts()}, expected {counts}")
        counts["dead_letters"] += _check_dead_letter_bounds(store)
        # The letter the retention pass deleted at the start is still in the total.
        totals = {"accepted": 8, "late": 1, "lost": 1, "dead_letters": counts["dead_letters"] + 1}
        _expect(store.totals() == totals, f"totals are {store.totals()}, expected {totals}")
        _expect(store.load_problems() == [], f"a sound store reports no problems: "
                f"{store.load_problems()}")
    finally:
        store.close()
    if not durable:
        return
    reopened = make_store()
    try:
        _check_aggregates(reopened, committed, "after reopening")
        _check_readings(reopened, committed)
        _expect(reopened.counts() == counts, "counts survive reopening")
        _expect(reopened.totals() == totals, "totals survive reopening")
        _expect(len(reopened.load_twin()[1]) == 3, "the twin survives reopening")
        _expect(reopened.load_snapshot("health") == SNAPSHOT_BODIES[2]
                and reopened.load_snapshot("other") == SNAPSHOT_BODIES[1],
                "snapshots survive reopening")
        _expect(reopened.audit(AuditQuery()) == audited, "the audit log survives reopening")
        _expect(reopened.load_plan() == planned, "schedule rows survive reopening")
        _expect(reopened.load_site_events() == declared, "site events survive reopening")
        _expect([reopened.keyed_event(e.element_id or "", "phone/1") for e in keyed] == keyed,
                "events found by key survive reopening")
        _expect(reopened.revisions() == {"element:slab-1": 2, "binding:t0": 1},
                "revisions survive reopening")
    finally:
        reopened.close()
