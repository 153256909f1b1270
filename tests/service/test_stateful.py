"""The service against a plain model of what must hold, under operations, readings,
redeliveries, restarts and failed commits in any order (Hypothesis' stateful testing).

What must hold: a reading is stored exactly once when some ingest of it answered
accepted, and never when every ingest of it failed; a failed commit changes nothing and
its retry is accepted whole; a redelivery is dropped; a restart loses nothing; each
sensor shows its newest committed reading; the twin holds exactly the committed elements.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

from .faults import FailingStore

SENSORS = ("s0", "s1", "s2")


class ServiceMachine(RuleBasedStateMachine):
    @initialize()
    def open_twin(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.folder = tempfile.TemporaryDirectory(prefix="twinsync-stateful-")
        self.url = f"sqlite:///{Path(self.folder.name) / 'twin.sqlite'}"
        self.store = FailingStore(self.url)
        self.service = TwinService(self.store)
        self.run(self.service.import_project(
            [Element("room", "IfcSpace")],
            [Sensor(s, "temperature", "degC") for s in SENSORS],
            [Binding(s, "room", f"t{s}") for s in SENSORS]))
        self.elements = {"room"}
        self.stored: dict[str, list[tuple[int, float, float]]] = {s: [] for s in SENSORS}
        self.sent: list[IncomingBatch] = []  # committed batches, for redelivery
        self.failed: list[IncomingBatch] = []  # batches whose commit failed, to retry
        self.next_seq = dict.fromkeys(SENSORS, 0)
        self.next_time = time.time() - 600.0
        self.next_element = 0

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        if hasattr(self, "service"):
            self.run(self.service.aclose())
            self.loop.close()
            self.folder.cleanup()

    # -- readings ------------------------------------------------------------------------

    @rule(sensor=st.sampled_from(SENSORS), count=st.integers(1, 8), fail=st.booleans())
    def ingest_new_readings(self, sensor: str, count: int, fail: bool) -> None:
        readings = []
        for _ in range(count):
            self.next_time += 0.5
            readings.append(RawReading(sensor, round(20.0 + self.next_time % 7, 3),
                                       self.next_time, None, self.next_seq[sensor]))
            self.next_seq[sensor] += 1
        batch = IncomingBatch(readings, "gw", time.time())
        self.ingest(batch, fail)

    def ingest(self, batch: IncomingBatch, fail: bool) -> None:
        self.store.fail_next = 1 if fail else 0
        if fail:
            try:
                self.run(self.service.ingest(batch))
            except StoreError:
                self.failed.append(batch)
                return
            raise AssertionError("an injected failure did not fail the ingest")
        result = self.run(self.service.ingest(batch))
        assert result.accepted == len(batch.readings), result
        assert result.duplicates == 0
        for reading in batch.readings:
            self.stored[reading.sensor_id].append((reading.seq, reading.time, reading.value))
        self.sent.append(batch)

    @precondition(lambda self: bool(self.failed))
    @rule(data=st.data())
    def retry_a_failed_batch(self, data: st.DataObject) -> None:
        batch = self.failed.pop(data.draw(st.integers(0, len(self.failed) - 1)))
        self.ingest(IncomingBatch(batch.readings, batch.source, time.time()), fail=False)

    @precondition(lambda self: bool(self.sent))
    @rule(data=st.data())
    def redeliver_a_committed_batch(self, data: st.DataObject) -> None:
        batch = self.sent[data.draw(st.integers(0, len(self.sent) - 1))]
        result = self.run(self.service.ingest(IncomingBatch(batch.readings, batch.source,
                                                            time.time())))
        assert result.accepted == 0 and result.duplicates == len(batch.readings), result

    # -- operations and restarts -------------------------------------------------------------

    @rule(fail=st.booleans())
    def add_an_element(self, fail: bool) -> None:
        element_id = f"wall-{self.next_element}"
        self.next_element += 1
        self.store.fail_next = 1 if fail else 0
        if fail:
            try:
                self.run(self.service.add_element(Element(element_id, "IfcWall")))
            except StoreError:
                return
            raise AssertionError("an injected failure did not fail the operation")
        self.run(self.service.add_element(Element(element_id, "IfcWall")))
        self.elements.add(element_id)

    @rule()
    def restart(self) -> None:
        self.run(self.service.aclose())
        self.store = FailingStore(self.url)
        self.service = TwinService(self.store)

    # -- what must hold ------------------------------------------------------------------------

    @invariant()
    def every_committed_reading_is_stored_once_and_no_other(self) -> None:
        if not hasattr(self, "service"):
            return
        for sensor, expected in self.stored.items():
            row = self.service.sensor_row(sensor)
            history = self.service.store.history(row, 0.0, time.time() + 10, limit=100_000)
            assert sorted(history.seq.tolist()) == sorted(seq for seq, _, _ in expected)

    @invariant()
    def each_sensor_shows_its_newest_committed_reading(self) -> None:
        if not hasattr(self, "service"):
            return
        for sensor, expected in self.stored.items():
            shown = self.service.sensor_snapshot(sensor)
            if not expected:
                assert shown["value"] is None
                continue
            newest = max(expected, key=lambda r: r[1])
            assert np.isclose(shown["time"], newest[1]) and shown["value"] == newest[2]

    @invariant()
    def the_twin_holds_exactly_the_committed_elements(self) -> None:
        if hasattr(self, "service"):
            assert set(self.service.twin.elements) == self.elements


ServiceMachine.TestCase.settings = settings(max_examples=8, stateful_step_count=20,
                                            deadline=None)
test_the_service_keeps_what_it_committed_and_nothing_else = ServiceMachine.TestCase
