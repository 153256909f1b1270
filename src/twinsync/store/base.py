"""The one interface every store implements, and how a store is chosen by URL.

A store keeps what must survive a restart: the twin (elements, sensors, bindings), the
readings history, the event log and dead letters, the twin's schedule (its files, progress
reports and links, ``plan_rows``), declared site events (``site_event_rows``), and named
snapshots of state that is costly to relearn (the sensors' learned health), each an opaque
blob replaced whole. It
is synchronous; the service calls it from a worker thread so the event loop never waits on
the disk. Writes of one ingest batch (readings, dead letters, events) are one
transaction: a reading is accepted only once that transaction has committed.

Reading back never fails on one bad row: a row that cannot be decoded is skipped and
reported in ``load_problems()`` (see ``problems``). Dead letters are bounded in size, kept
for a retention period and read in pages bounded in bytes (see ``dead_letters``). A write
that raises ``StoreError`` has committed nothing.

Sensor rows: a sensor's ``row`` (its dense index in the pipeline's tables) is assigned at
registration and stored, so a restarted process rebuilds the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import orjson
from numpy.typing import NDArray

from ..model import Binding, Element, Event, Sensor
from ..model.plan_records import PlanRow
from ..model.site_events import SiteEvent
from ..pipeline import Batch, DeadLetter
from .problems import LoadProblem

if TYPE_CHECKING:  # audit's rows are encoded by ``rows``, which needs this module
    from .audit import AuditEntry, AuditQuery


@dataclass(slots=True)
class SensorAggregates:
    """Per-sensor summary of the stored history, to rebuild live state after a restart."""

    rows: NDArray[np.int64]
    count: NDArray[np.int64]
    last_value: NDArray[np.float64]
    last_event_time: NDArray[np.float64]
    last_received_at: NDArray[np.float64]
    mean: NDArray[np.float64]
    m2: NDArray[np.float64]
    minimum: NDArray[np.float64]
    maximum: NDArray[np.float64]
    first_event_time: NDArray[np.float64]


@dataclass(slots=True)
class History:
    """Raw readings of one sensor, oldest first."""

    event_time: NDArray[np.float64]
    value: NDArray[np.float64]
    raw_value: NDArray[np.float64]
    received_at: NDArray[np.float64]
    seq: NDArray[np.int64]
    quality: NDArray[np.float64]
    flags: NDArray[np.int64]
    anomaly: NDArray[np.float64]
    """The anomaly score in [0, 1] of each reading; NaN where it was not scored."""


@dataclass(slots=True)
class Buckets:
    """Downsampled history: one row per time bucket that has readings."""

    start: NDArray[np.float64]
    minimum: NDArray[np.float64]
    maximum: NDArray[np.float64]
    mean: NDArray[np.float64]
    count: NDArray[np.int64]
    anomaly: NDArray[np.float64]
    """The highest anomaly score in each bucket; NaN where no reading of it was scored."""


@runtime_checkable
class Store(Protocol):
    url: str

    def close(self) -> None: ...

    def health(self) -> dict[str, Any]:
        """``connected``, ``last_error``, ``last_error_at``, ``down_since`` (epoch seconds
        or None) and ``reconnects`` so far; ``backend`` names the kind of store."""
        ...
    def load_problems(self) -> list[LoadProblem]:
        """Stored rows skipped because they could not be decoded (see ``problems``)."""
        ...

    # the twin
    def load_twin(self) -> tuple[list[Element], list[tuple[int, Sensor]], list[Binding]]: ...
    def save_changes(
        self,
        events: Sequence[Event],
        *,
        elements: Sequence[Element] = (),
        sensors: Sequence[tuple[int, Sensor]] = (),
        bindings: Sequence[Binding] = (),
        unbound: Sequence[str] = (),
        revisions: Mapping[str, int] | None = None,
        audit_entries: Sequence[AuditEntry] = (),
        plan: Sequence[PlanRow] = (),
        site_events: Sequence[SiteEvent] = (),
    ) -> None:
        """A change of the twin in one transaction: its rows, the new ``revisions`` of
        what it changed (``audit``), its events, the audit entries that record it, the
        rows of its schedule (``plan_rows``) and declared site events (``site_events``),
        each inserted or replaced."""
        ...
    def load_plan(self) -> list[PlanRow]:
        """Every stored row of the twin's schedule (``plan_rows``), by kind and key."""
        ...
    def load_site_events(self) -> list[SiteEvent]:
        """Every declared site event, withdrawn ones included (``site_events``)."""
        ...
    def revisions(self) -> dict[str, int]:
        """Every stored revision, by target (``element:<id>``, ``binding:<sensor id>``)."""
        ...

    # the audit log
    def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Entries of changes kept outside the store (a connector started), on their own."""
        ...
    def audit(self, q: AuditQuery) -> list[AuditEntry]: ...

    # the reading path
    def commit(self, batch: Batch, dead_letters: Sequence[DeadLetter],
               events: Sequence[Event] = (), counts: Mapping[str, int] | None = None
               ) -> None:
        """Readings, dead letters and events in one transaction; ``counts`` are added to
        the running totals (``totals``) in it too."""
        ...
    def seal(self) -> int:
        """Move every committed, unsealed reading into sealed storage now; returns how many.
        Stores seal on their own as readings gather; this is for shutdown and benchmarks."""
        ...
    def add_dead_letters(self, dead_letters: Sequence[DeadLetter]) -> None: ...

    # reads
    def history(self, row: int, start: float, end: float, limit: int = 100_000) -> History: ...
    def downsample(self, row: int, start: float, end: float, every: float) -> Buckets: ...
    def aggregates(self) -> SensorAggregates: ...
    def recent_sequences(self, segments: int = 1
                         ) -> tuple[NDArray[np.int64], NDArray[np.int64]]: ...
    def events(self, *, after: int = 0, element_id: str | None = None,
               limit: int = 100, kind: str | None = None,
               newest_first: bool = False) -> list[Event]:
        """Events after a sequence number, oldest first; ``newest_first``: the newest
        ``limit`` of them, newest first."""
        ...
    def keyed_event(self, element_id: str, key: str) -> Event | None:
        """The event ``element_id``'s measurement ``key`` was recorded by (the first, if
        more were), or None: one look-up, however long the element's history."""
        ...
    def recent_events(self, limit: int = 20, kind: str | None = None) -> list[Event]: ...
    def dead_letters(self, *, limit: int = 100, after: int = 0,
                     reason: str | None = None) -> list[DeadLetter]:
        """Letters after an id, oldest first: at most ``limit``, and at most the page's
        bytes (``dead_letters``), so a page may hold fewer; page on from the last id."""
        ...
    def counts(self) -> dict[str, int]: ...
    def totals(self) -> dict[str, int]:
        """Running totals, each committed with what it counts (``store/totals.py``):
        what commits' ``counts`` added, and ``dead_letters`` ever written."""
        ...

    # snapshots: state kept in memory and saved now and then (the health table)
    def save_snapshot(self, name: str, body: bytes) -> None:
        """Replace the snapshot called ``name`` with ``body``, atomically."""
        ...
    def load_snapshot(self, name: str) -> bytes | None:
        """The snapshot last saved as ``name``, or None if there is none."""
        ...

    # the learned state's place in the journal (``checkpoint``)
    def position(self) -> int:
        """The journal id of the newest batch committed (0 before any): ids grow in commit
        order and are never reused. Read it where no commit runs beside (the writer)."""
        ...
    def save_state(self, snapshots: Mapping[str, bytes], position: int) -> None:
        """Replace each snapshot of ``snapshots`` and record that together they reach
        journal id ``position``, in one transaction."""
        ...
    def state_position(self) -> int | None:
        """The position the saved state reaches; None if it was saved without one."""
        ...
    def batches_after(self, position: int, limit: int = 64
                      ) -> list[tuple[int, NDArray[np.void]]]:
        """Up to ``limit`` committed batches after journal id ``position``, oldest first:
        (journal id, the batch's stored rows, ``tiers.ROW_DTYPE``)."""
        ...


def open_store(url: str) -> Store:
    """The store for a URL: ``sqlite:///path/to/file`` or ``postgresql://…``."""
    from ..errors import InvalidInput

    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:  # the module may not exist in a trimmed install
            raise InvalidInput(f"PostgreSQL store unavailable: {exc}", "bad_store_url") from exc
        return PostgresStore(url)
    raise InvalidInput(f"unknown store URL {url!r}: use sqlite:///path or postgresql://…",
                       "bad_store_url")


def json_default(value: Any) -> Any:
    """orjson fallback for NumPy scalars in property values."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_dumps(content: Any) -> bytes:
    """JSON as the API and the live feed write it (NumPy arrays and scalars included)."""
    return orjson.dumps(content, default=json_default,
                        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
