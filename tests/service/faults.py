"""Fault injection for the service's tests: a real SQLite store whose writes can be made to
fail, a real publisher and hub that can be made to fail right after a commit, and a
fingerprint of everything the service keeps live, to say "unchanged"."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from twinsync.model import Event
from twinsync.pipeline import Batch, DeadLetter
from twinsync.service import TwinService
from twinsync.service.hub import Hub
from twinsync.service.publisher import Publisher
from twinsync.store.sqlite import SQLiteStore


class FailingStore(SQLiteStore):
    """A SQLite store whose next ``fail_next`` writes raise before anything is written, as
    a full disk or a lost connection would."""

    fail_next = 0
    failures = 0

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            raise OSError("injected: disk I/O error")

    def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
               events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
               ) -> None:
        self._maybe_fail()
        super().commit(batch, dead_letters, events, counts)

    def save_changes(self, events: Sequence[Event], **rows: Any) -> None:
        self._maybe_fail()
        super().save_changes(events, **rows)


class FailingPublisher(Publisher):
    """The service's publisher, whose next ``fail_next`` marks of moved rows raise: the
    first thing the writer does with a batch once it is committed."""

    fail_next = 0
    failures = 0

    def moved(self, rows: NDArray[np.int64]) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            raise RuntimeError("injected: marking moved values failed after the commit")
        super().moved(rows)


class FailingHub(Hub):
    """The service's hub, whose next ``fail_next`` publishes raise: the event loop's part,
    after the writer has committed and answered."""

    fail_next = 0
    failures = 0

    def publish(self, *args: Any, **kwargs: Any) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            self.failures += 1
            raise RuntimeError("injected: a subscriber could not be sent the changes")
        super().publish(*args, **kwargs)


def live_state(service: TwinService) -> dict[str, Any]:
    """Everything a batch or an operation may change, in comparable form."""
    pipeline = service.pipeline
    health = service.health

    def digest(array: Any) -> str:
        return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()

    return {
        "table": digest(pipeline.table._records.array),
        "rows": list(pipeline.table.ids),
        "sequences": digest(pipeline.sequences._records.array),
        "clocks": ({name: clock.to_dict() for name, clock in pipeline.clocks.sources.items()},
                   digest(pipeline.clocks._records.array)),
        "counts": dict(pipeline.counts),
        "latency": pipeline.latency.names(),
        "health": (digest(health.table._records.array),
                   digest(health.table._peer_records.array), health.rows_in_use,
                   # the checkpoints and logs of sensors whose readings come out of order
                   digest(health.refold._rows.array),
                   digest(health.refold._slots.array[: health.refold.tracked])),
        "alarms": {key: alarm.to_dict() for key, alarm in service.alarms.active.items()},
        "anomaly": (digest(service.anomalies.monitor.detector._records.array),
                    {sensor: list(spans) for sensor, spans
                     in service.anomalies.monitor.expected.items() if spans},
                    # each sensor's last anomaly event and the anomalies untold since
                    {name: digest(column) for name, column
                     in service.anomalies.monitor.columns(len(pipeline.table)).items()}),
        "twin_models": digest(service.twin_models.tracker._records.array),
        "twin": ({k: e.to_dict() for k, e in service.twin.elements.items()},
                 {k: s.to_dict() for k, s in service.twin.sensors.items()},
                 {k: b.to_dict() for k, b in service.twin.bindings.items()}),
    }
