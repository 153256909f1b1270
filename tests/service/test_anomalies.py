"""Anomaly detection in the live service: a planted anomaly in a stream is stored with its
score and raises one alarm, not one per reading; scores, the detector's state and the
expected spans survive a restart; marking an anomaly as expected is audited, and a failed
commit (of a batch or a mark) leaves the detector, its spans and alarms as they were."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from twinsync.errors import Conflict, InvalidInput, NotFound, StoreError
from twinsync.model import Binding, Element, Event, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService
from twinsync.service.expected_marks import Withdrawn
from twinsync.store.audit import Actor, AuditQuery

from .faults import FailingStore, live_state

STEP = 900.0
DAY = 86_400.0
START = 1_767_225_600.0  # 2026-01-01
SENSORS = ["t-0", "t-1", "t-2"]
JUMP_DAY = 8


def stream(days: int, seed: int = 4) -> np.ndarray:
    """Three peers of one slab, every 15 minutes, a daily cycle each; t-1 runs 10 units
    high for a day from ``JUMP_DAY``, t-0 from ``JUMP_DAY`` + 1.25. (slot, sensor) values."""
    rng = np.random.default_rng(seed)
    slots = int(days * DAY / STEP)
    hours = np.arange(slots) * STEP / 3600
    values = 20 + 3 * np.sin(2 * np.pi * hours / 24)[:, None] + rng.normal(0, 0.05, (slots, 3))
    high = (hours >= JUMP_DAY * 24) & (hours < (JUMP_DAY + 1) * 24)
    values[high, 1] += 10.0
    values[hours >= (JUMP_DAY + 1.25) * 24, 0] += 10.0
    return np.round(values, 3)


async def open_slab(url: str, **options: object) -> TwinService:
    return await open_slab_on(TwinService.open(url, **options))  # type: ignore[arg-type]


async def open_slab_on(service: TwinService) -> TwinService:
    """The service with one slab and its three loggers, unless it has them already."""
    if not service.twin.sensors:
        await service.import_project(
            [Element("slab-1", "IfcSlab")],
            [Sensor(s, "temperature", "degC", STEP, resolution=0.001) for s in SENSORS],
            [Binding(s, "slab-1", "core_temperature") for s in SENSORS])
    return service


async def feed(service: TwinService, values: np.ndarray, slots: range,
               per_batch: int = 96) -> list[Event]:
    """A day of readings a batch; returns the events committed meanwhile."""
    (newest,) = service.store.recent_events(limit=1) or [Event("none", 0.0, seq=0)]
    for first in range(slots.start, slots.stop, per_batch):
        readings = [RawReading(s, float(values[k, i]), START + k * STEP + i)
                    for k in range(first, min(first + per_batch, slots.stop))
                    for i, s in enumerate(SENSORS)]
        received = START + min(first + per_batch, slots.stop) * STEP + 10.0
        result = await service.ingest(IncomingBatch(readings, "test", received))
        assert result.accepted == len(readings)
    return service.store.events(after=newest.seq or 0, limit=100_000)


async def test_a_planted_anomaly_is_stored_with_its_score_and_raises_one_alarm_and_all_of_it_survives_a_restart(  # noqa: E501
        store_url: str) -> None:
    values = stream(days=10)
    service = await open_slab(store_url)
    try:
        events = await feed(service, values, range(0, 9 * 96))
        raised = [e for e in events if e.kind == "alarm_raised"
                  and e.data["key"].startswith("anomaly:")]
        anomalies = [e for e in events if e.kind == "anomaly"]
        assert [e.data["key"] for e in raised] == ["anomaly:t-1"]
        assert raised[0].element_id == "slab-1"
        assert raised[0].time == pytest.approx(START + JUMP_DAY * DAY, abs=2 * STEP)
        # Health calls the first high readings spikes (quality 0.2): they are scored but
        # teach nothing, so they do not start the detector's damping either, and each is
        # an event until a trusted one is; then the detector is quiet. One alarm for all.
        assert {e.data["sensor"] for e in anomalies} == {"t-1"}
        assert 1 <= len(anomalies) <= 8 and len(anomalies) < 96 // 10
        # The score is stored with the reading it belongs to, in the store's history.
        row = service.pipeline.table.index["t-1"]
        history = await service.history(service.store.history, row, 0.0, 4e9)
        first = anomalies[0]
        at = np.flatnonzero(history.event_time == first.time)
        assert at.size == 1 and history.anomaly[at[0]] == pytest.approx(first.data["score"],
                                                                         abs=1e-4)
        assert np.isfinite(history.anomaly).all() and history.anomaly.max() >= 0.6
        calm = history.anomaly[history.event_time < START + JUMP_DAY * DAY]
        assert calm.max() < 0.33  # no anomaly before the jump
        buckets = await service.history(service.store.downsample, row, START, START + 10 * DAY,
                                         DAY)
        assert buckets.anomaly[JUMP_DAY] == pytest.approx(float(history.anomaly.max()))
        marked = await service.anomalies.mark_expected(
            sensor_id="t-2", start=START + 9 * DAY, end=START + 9.5 * DAY, reason="load test",
            actor=Actor("ana", "operator"))
        detector = service.anomalies.monitor.detector
        state = detector.save(np.arange(3))
        told = {name: column.copy()
                for name, column in service.anomalies.monitor.columns(3).items()}
        assert told["told_at"][1] >= START + JUMP_DAY * DAY  # t-1's jump was told
    finally:
        await service.aclose()

    restarted = await open_slab(store_url)
    try:
        again = restarted.anomalies.monitor.detector.save(np.arange(3))
        for name, column in state.items():
            assert np.array_equal(again[name], column), name
        # The sensors' quiet times go on where they were.
        for name, column in restarted.anomalies.monitor.columns(3).items():
            assert np.array_equal(column, told[name]), name
        assert "anomaly:t-1" in restarted.alarms.active or any(
            e.kind == "alarm_cleared" and e.data["key"] == "anomaly:t-1" for e in events)
        assert await restarted.anomalies.expected() == [
            {"id": marked["expected"][0]["id"], "sensor_id": "t-2", "start": START + 9 * DAY,
             "end": START + 9.5 * DAY, "reason": "load test", "by": "ana",
             "marked_at": marked["expected"][0]["marked_at"], "withdrawn_at": None,
             "withdrawn_by": None, "withdrawn_reason": None}]
        after = await restarted.history(restarted.store.history, row, 0.0, 4e9)
        assert np.array_equal(after.anomaly, history.anomaly)
        # A restored detector tells t-0's jump at once; a fresh one would still be learning
        # (it scores nothing for a sensor's first 400 readings).
        more = await feed(restarted, values, range(9 * 96, 10 * 96))
        raised_again = [e for e in more if e.kind == "alarm_raised"
                        and e.data["key"].startswith("anomaly:")]
        assert [e.data["key"] for e in raised_again] == ["anomaly:t-0"]
        assert raised_again[0].time == pytest.approx(START + (JUMP_DAY + 1.25) * DAY,
                                                     abs=2 * STEP)
    finally:
        await restarted.aclose()


async def test_a_jump_health_calls_spikes_is_one_event_an_hour_and_a_failed_commit_keeps_none(
        tmp_path: object) -> None:
    """t-1's jump: health calls its first readings spikes, which do not start the
    detector's damping; with the quiet time its sensor tells one anomaly event an hour,
    and the batch that first told it, failing to commit, left nothing behind."""
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    try:
        await open_slab_on(service)
        values = stream(days=9)
        await feed(service, values, range(0, JUMP_DAY * 96))
        before = live_state(service)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await feed(service, values, range(JUMP_DAY * 96, JUMP_DAY * 96 + 8), per_batch=8)
        assert live_state(service) == before
        events = await feed(service, values, range(JUMP_DAY * 96, 9 * 96), per_batch=8)
        anomalies = [e for e in events if e.kind == "anomaly"]
        assert anomalies and {e.data["sensor"] for e in anomalies} == {"t-1"}
        assert anomalies[0].time == pytest.approx(START + JUMP_DAY * DAY, abs=2 * STEP)
        assert all(b.time - a.time >= 3600 for a, b in pairwise(anomalies))
        raised = [e.data["key"] for e in events if e.kind == "alarm_raised"
                  and e.data["key"].startswith("anomaly:")]
        assert raised == ["anomaly:t-1"]
        # What the quiet time kept is counted, on the next event or on the sensor's row.
        monitor = service.anomalies.monitor
        kept = sum(e.data["untold"] for e in anomalies) + int(monitor.untold[1])
        assert kept > 0
    finally:
        await service.aclose()


async def test_marking_an_anomaly_of_an_element_as_expected_is_audited_and_clears_its_alarm(
        tmp_path: object) -> None:
    values = stream(days=9)
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, values, range(0, int((JUMP_DAY + 0.25) * 96)))
        assert "anomaly:t-1" in service.alarms.active
        marked = await service.anomalies.mark_expected(
            element_id="slab-1", start=f"2026-01-0{JUMP_DAY + 1}T00:00:00Z",
            end=START + 9 * DAY, reason="pour of slab 1", actor=Actor("ana", "operator"))
        assert [m["sensor_id"] for m in marked["expected"]] == SENSORS
        assert marked["expected"][0]["start"] == START + JUMP_DAY * DAY
        assert marked["cleared"] == ["anomaly:t-1"]
        assert "anomaly:t-1" not in service.alarms.active
        (entry,) = service.store.audit(AuditQuery(element_id="slab-1", since=0.0))[-1:]
        assert entry.operation == "mark_anomaly_expected" and entry.actor.name == "ana"
        with pytest.raises(NotFound):
            await service.anomalies.mark_expected(sensor_id="nope", start=0, end=1, reason="x")
        with pytest.raises(InvalidInput):
            await service.anomalies.mark_expected(sensor_id="t-0", start=2, end=1, reason="x")
        with pytest.raises(InvalidInput):
            await service.anomalies.mark_expected(sensor_id="t-0", start=0, end=1, reason=" ")
        assert len(await service.anomalies.expected()) == 3  # the refused ones kept nothing
    finally:
        await service.aclose()


async def test_a_mark_whose_commit_fails_leaves_spans_and_alarms_as_they_were(
        tmp_path: object) -> None:
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    try:
        await open_slab_on(service)
        await feed(service, stream(days=9), range(0, int((JUMP_DAY + 0.25) * 96)))
        before = live_state(service)
        assert "anomaly:t-1" in service.alarms.active
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.anomalies.mark_expected(element_id="slab-1", start=0.0,
                                                  end=START + 9 * DAY, reason="pour")
        assert live_state(service) == before
        assert await service.anomalies.expected() == []
    finally:
        await service.aclose()


async def test_with_anomaly_detection_off_nothing_is_scored_and_marking_is_refused(
        tmp_path: object) -> None:
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite", anomaly_detection=False)
    try:
        await feed(service, stream(days=1), range(0, 8))
        history = await service.history(service.store.history, 0, 0.0, 4e9)
        assert len(history.anomaly) == 8 and np.isnan(history.anomaly).all()
        with pytest.raises(InvalidInput):
            await service.anomalies.mark_expected(sensor_id="t-0", start=0, end=1, reason="x")
    finally:
        await service.aclose()


async def test_with_anomaly_detection_switched_off_later_the_marks_made_before_are_listed(
        tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_slab(url)
    try:
        kept = await service.anomalies.mark_expected(sensor_id="t-0", start=0, end=1,
                                                     reason="load test")
        gone = await service.anomalies.mark_expected(sensor_id="t-1", start=0, end=1,
                                                     reason="pour")
        await service.anomalies.withdraw_expected(gone["expected"][0]["id"], reason="wrong",
                                                  actor=Actor("bo", "operator"))
        every = await service.anomalies.expected(withdrawn=Withdrawn.INCLUDE)
    finally:
        await service.aclose()
    off = await open_slab(url, anomaly_detection=False)
    try:
        # The record is listed whatever the setting; marking is what the switch refuses.
        assert await off.anomalies.expected(withdrawn=Withdrawn.INCLUDE) == every
        assert await off.anomalies.expected() == kept["expected"]
        assert [(s["sensor_id"], s["withdrawn_by"]) for s in every] == [("t-0", None),
                                                                        ("t-1", "bo")]
    finally:
        await off.aclose()


async def test_a_late_reading_and_one_an_hour_ahead_are_stored_unscored_and_teach_nothing(
        tmp_path: object) -> None:
    """Loggers reporting live (each slot received seconds after it is taken); then a device
    that reboots and resends a reading of days ago, and one whose clock runs an hour fast:
    neither is in its sensor's sequence, so neither is scored nor taught."""
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        values = stream(days=5)
        for k in range(450):
            await service.ingest(IncomingBatch(
                [RawReading(s, float(values[k, i]), START + k * STEP + i)
                 for i, s in enumerate(SENSORS)], "test", START + k * STEP + 10.0))
        rows = np.arange(3, dtype=np.int64)
        before = service.anomalies.monitor.detector.save(rows)
        now = START + 449 * STEP + 20.0
        resent = RawReading("t-0", 99.0, START + 10 * STEP + 5.0)
        ahead = RawReading("t-1", 99.0, now + 3600.0)
        result = await service.ingest(IncomingBatch([resent, ahead], "test", now))
        assert (result.late, result.quarantined) == (1, 1)
        after = service.anomalies.monitor.detector.save(rows)
        assert all(np.array_equal(before[k], after[k], equal_nan=before[k].dtype.kind == "f")
                   for k in before)
        for row, when in ((0, resent.time), (1, ahead.time)):
            kept = await service.history(service.store.history, row, when - 1, when + 1)
            assert np.isnan(kept.anomaly[kept.value == 99.0]).all()
        scored = await service.history(service.store.history, 2, START + 440 * STEP, now)
        assert scored.anomaly.size > 0 and np.isfinite(scored.anomaly).all()
    finally:
        await service.aclose()


async def test_a_logger_that_only_uploads_its_buffer_has_a_reading_of_days_ago_taken_as_late(
        tmp_path: object) -> None:
    """Loggers that upload a day's buffer at a time (every reading stale on arrival, so no
    live time ever): a reading of days ago sent after the newer days is behind what was
    judged in order, so it is late, stored unscored and taught to nothing."""
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        values = stream(days=5)
        await feed(service, values, range(0, 450))
        rows = np.arange(3, dtype=np.int64)
        assert not np.isfinite(service.pipeline.table.last_event_time[rows]).any()
        before = service.anomalies.monitor.detector.save(rows)
        resent = RawReading("t-0", 99.0, START + 10 * STEP + 5.0)
        result = await service.ingest(IncomingBatch([resent], "test", START + 451 * STEP))
        assert result.late == 1
        after = service.anomalies.monitor.detector.save(rows)
        assert all(np.array_equal(before[k], after[k], equal_nan=before[k].dtype.kind == "f")
                   for k in before)
        kept = await service.history(service.store.history, 0, resent.time - 1,
                                     resent.time + 1)
        assert np.isnan(kept.anomaly[kept.value == 99.0]).all()
    finally:
        await service.aclose()


def two_pulses(days: int) -> np.ndarray:
    """t-1 runs 10 units high for six hours from ``JUMP_DAY`` and 10 low for six hours
    from ``JUMP_DAY`` + 3.5 (past the detector's damping after the first); its peers stay
    calm. (slot, sensor) values."""
    values = stream(days)
    hours = np.arange(values.shape[0]) * STEP / 3600
    calm = values[:, 2]
    values[:, 0], values[:, 1] = calm - 0.01, calm + 0.01
    for begins, shift in ((JUMP_DAY, 10.0), (JUMP_DAY + 3.5, -10.0)):
        values[(hours >= begins * 24) & (hours < (begins + 0.25) * 24), 1] += shift
    return np.round(values, 3)


def anomaly_alarms(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.kind, e.data["key"]) for e in events
            if e.kind.startswith("alarm_") and e.data["key"].startswith("anomaly:")]


@pytest.mark.parametrize("withdrawn", [True, False])
async def test_a_withdrawn_mark_raises_nothing_after_the_fact_and_the_next_anomaly_alarms(
        tmp_path: object, withdrawn: bool) -> None:
    """The mark covers both of t-1's pulses. Withdrawn after the first (whose alarm it
    kept back), it raises nothing then, and is still withdrawn after a restart; the
    second pulse raises t-1's alarm. Left standing, the second pulse raises nothing."""
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    values = two_pulses(days=13)
    service = await open_slab(url)
    try:
        await feed(service, values, range(0, JUMP_DAY * 96))
        marked = await service.anomalies.mark_expected(
            element_id="slab-1", start=START + JUMP_DAY * DAY, end=START + (JUMP_DAY + 6) * DAY,
            reason="pour of slab 1", actor=Actor("ana", "operator"))
        (mark_id,) = {span["id"] for span in marked["expected"]}
        first = await feed(service, values, range(JUMP_DAY * 96, int((JUMP_DAY + 0.5) * 96)))
        told = [e for e in first if e.kind == "anomaly"]
        assert told and all(e.data["sensor"] == "t-1" and e.data["expected"] for e in told)
        assert told[0].data["score"] >= 0.6 and anomaly_alarms(first) == []
        if withdrawn:
            answer = await service.anomalies.withdraw_expected(
                mark_id, reason="marked the wrong slab", actor=Actor("bo", "operator"))
            assert answer["sensors"] == SENSORS and answer["withdrawn_by"] == "bo"
            assert answer["reason"] == "marked the wrong slab"
            # Not raised after the fact: the alarm book is as the mark left it.
            assert not [k for k in service.alarms.active if k.startswith("anomaly:")]
            (newest,) = service.store.recent_events(limit=1)
            assert newest.kind == "anomaly_expected_withdrawn"
            assert newest.data["by"] == "bo" and newest.data["reason"] == "marked the wrong slab"
            (entry,) = service.store.audit(AuditQuery(element_id="slab-1", since=0.0))[-1:]
            assert entry.operation == "withdraw_anomaly_expected"
            assert entry.actor.name == "bo" and entry.target == f"expected:{mark_id}"
            assert await service.anomalies.expected() == []
    finally:
        await service.aclose()

    restarted = await open_slab(url)
    try:
        standing = await restarted.anomalies.expected()
        assert [span["id"] for span in standing] == ([] if withdrawn else [mark_id] * 3)
        if withdrawn:
            with pytest.raises(Conflict):  # kept across the restart
                await restarted.anomalies.withdraw_expected(mark_id, reason="again")
        later = await feed(restarted, values, range(int((JUMP_DAY + 0.5) * 96), 13 * 96))
        second = [e for e in later if e.kind == "anomaly"
                  and e.time >= START + (JUMP_DAY + 3.5) * DAY]
        assert second and second[0].data["sensor"] == "t-1" and second[0].data["score"] >= 0.6
        assert second[0].data["expected"] is not withdrawn
        raised = [key for kind, key in anomaly_alarms(later) if kind == "alarm_raised"]
        assert raised == (["anomaly:t-1"] if withdrawn else [])
    finally:
        await restarted.aclose()


async def test_withdrawing_a_mark_that_is_none_or_gone_or_without_a_reason_is_refused(
        tmp_path: object) -> None:
    service = await open_slab(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        marked = await service.anomalies.mark_expected(sensor_id="t-0", start=0, end=1,
                                                       reason="load test")
        mark_id = marked["expected"][0]["id"]
        with pytest.raises(NotFound):
            await service.anomalies.withdraw_expected("nope", reason="x")
        with pytest.raises(InvalidInput):
            await service.anomalies.withdraw_expected(mark_id, reason=" ")
        assert [s["id"] for s in await service.anomalies.expected()] == [mark_id]
        await service.anomalies.withdraw_expected(mark_id, reason="wrong sensor")
        with pytest.raises(Conflict):
            await service.anomalies.withdraw_expected(mark_id, reason="wrong sensor")
    finally:
        await service.aclose()


async def test_a_withdrawal_whose_commit_fails_leaves_the_mark_standing(
        tmp_path: object) -> None:
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = TwinService(store)
    try:
        await open_slab_on(service)
        marked = await service.anomalies.mark_expected(element_id="slab-1", start=0.0,
                                                       end=START + 9 * DAY, reason="pour")
        before = live_state(service)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.anomalies.withdraw_expected(marked["expected"][0]["id"],
                                                      reason="wrong")
        assert live_state(service) == before
        assert service.anomalies.monitor.withdrawn == {}
        assert await service.anomalies.expected() == marked["expected"]
    finally:
        await service.aclose()
