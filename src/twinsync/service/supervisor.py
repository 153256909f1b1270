"""Connector supervision: every connector's consumer in one task group, restarted when it fails.

A connector (``twinsync.ingest.connector``) hands over ``Delivery`` objects; the consumer
ingests each one (which commits it) and only then acks it, so a source that redelivers
(MQTT QoS 1, a persistent session) loses nothing if twinsync dies in between. What this
module adds is what keeps that consumer alive and honest:

- **A consumer that raises is restarted**, after ``connector.aclose()`` released what it
  held, with exponential backoff (capped, jittered, reset once a delivery goes through).
  Its health says the truth: ``state`` (connecting, running, retrying, restarting, failed,
  finished, stopped), since when, how many restarts, the last error and when it came.
- **No message can stop a connector.** An exception while ingesting a delivery is a fact
  about that delivery, not about the source: the readings that make ingest raise are
  found by halving the batch, kept as dead letters with the reason (``ingest_error``),
  the rest are committed, and the delivery is acked, so the broker does not hand the same
  poison back after every restart.
- **A store error is not the message's fault.** ``StoreError`` (and ``Overloaded``, the
  writer being full) means "do not ack, back off, try the same delivery again": nothing of
  it is dead-lettered, nothing is acked until it is committed. The connector meanwhile
  stops reading (deliveries are pulled), and its source holds or redelivers the rest.
- **What was committed is never retried nor dead-lettered.** ``FailedAfterCommit`` (the
  batch is durable, then applying, publishing or answering failed) is not the message's
  fault either, and sending it again would store its readings without sequence numbers
  twice: it is logged, counted (``failed_after_commit``), taken as committed, and the
  delivery goes on to its ack.
- ``aclose()`` cancels every consumer, closes every connector and waits for the task group,
  whatever state each one was in.

The supervisor knows the service only through two callables (ingest, add dead letters),
so it can be tested against a real broker with an ingest that fails on purpose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import FailedAfterCommit, InvalidInput, NotFound, Overloaded, StoreError
from ..ingest.connector import Connector, ConnectorHealth, Delivery
from ..pipeline import DeadLetter, IncomingBatch, RawReading
from ..pipeline.limits import short_repr
from ..store.dead_letters import cut

log = logging.getLogger(__name__)

Ingest = Callable[[IncomingBatch, Sequence[DeadLetter]], Awaitable[object]]
"""Validate and commit a batch with its dead letters (``TwinService.ingest``). It raises
``StoreError``/``Overloaded`` when nothing was kept, ``FailedAfterCommit`` when the batch
was kept and something after the commit failed, anything else for input it cannot take."""
AddDeadLetters = Callable[[Sequence[DeadLetter]], Awaitable[None]]
"""Commit dead letters alone (``TwinService.add_dead_letters``)."""

INGEST_ERROR = "ingest_error"
"""The dead-letter reason of a reading whose ingest raised."""
_KEPT_CHARS = 1_000
"""How much of a rejected reading's field, or of an error's text, a dead letter keeps."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: ``initial · factor^n``, capped at ``maximum``, ± ``jitter``.

    Jitter spreads the restarts of connectors that failed together (a broker that went
    away) so they do not all come back in the same instant.

    >>> Backoff(initial=1.0, maximum=8.0, jitter=0.0).delay(5, random.Random(0))
    8.0
    """

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random) -> float:
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 64))
        spread = 1.0 + self.jitter * (2.0 * rng.random() - 1.0)
        return min(self.maximum, base * spread)


class _Supervised:
    """One connector, its consumer task and what the supervisor knows of it."""

    __slots__ = ("after_commit", "connector", "failures", "last_error", "last_error_at",
                 "rejected", "restarts", "retries", "since", "state", "task")

    def __init__(self, connector: Connector, now: float) -> None:
        self.connector = connector
        self.task: asyncio.Task[None] | None = None
        self.state = "connecting"
        self.since = now
        self.restarts = 0
        self.failures = 0
        """Failures since the last delivery that went through: the backoff's exponent."""
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.rejected = 0
        self.retries = 0
        self.after_commit = 0


class ConnectorSupervisor:
    """Runs connectors' consumers in one task group; see the module docstring.

    ``connectors`` is the live mapping of name → connector (pass one in to share it).
    ``max_restarts`` consecutive failures without a delivery in between make a connector
    ``failed`` (closed, kept in the list with its error); ``None`` retries for ever, which
    is what a site wants of a broker that is down over a weekend.
    """

    def __init__(self, ingest: Ingest, add_dead_letters: AddDeadLetters, *,
                 backoff: Backoff | None = None, max_restarts: int | None = None,
                 connectors: dict[str, Connector] | None = None, seed: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._ingest = ingest
        self._add_dead_letters = add_dead_letters
        self.backoff = backoff or Backoff()
        self.max_restarts = max_restarts
        self.connectors: dict[str, Connector] = {} if connectors is None else connectors
        self._clock = clock
        self._random = random.Random(seed)
        self._entries: dict[str, _Supervised] = {}
        self._group: asyncio.TaskGroup | None = None
        self._host: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, connector: Connector, *, wait: bool = True,
                    started: bool = False) -> None:
        """Supervise ``connector``. With ``wait`` its first ``start()`` runs here and its
        ConnectorError reaches the caller (an API call that names an unreachable broker is
        refused); without, every attempt runs in the background and failures only show in
        its health (a service starting up serves while its broker is still away).
        ``started``: the caller has started it already; restarts start it again."""
        if self._closed:
            raise InvalidInput("the connector supervisor is closed", "closed")
        name = connector.name
        if name in self._entries:
            raise InvalidInput(f"connector {name!r} is already running", "duplicate")
        entry = _Supervised(connector, self._clock())
        self._entries[name] = entry
        self._health_of(entry)
        self.connectors[name] = connector
        if wait and not started:
            try:
                await connector.start()
            except BaseException:
                self._forget(name)
                with contextlib.suppress(Exception):
                    await connector.aclose()
                raise
        group = await self._task_group()
        entry.task = group.create_task(self._supervise(entry, started=wait or started),
                                       name=f"connector:{name}")

    async def stop(self, name: str) -> None:
        """Stop one connector's consumer and close the connector."""
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(f"no connector {name!r}")
        self._forget(name)
        await self._stop_entry(entry)
        self._set(entry, "stopped")
        if not self._entries:
            # Nothing left to run: end the group, so a service that stops its connectors
            # one by one leaves no task behind; the next start makes a new one.
            await self._end_group()

    async def aclose(self) -> None:
        """Stop every consumer, close every connector, end the task group. Safe twice."""
        if self._closed:
            return
        self._closed = True
        entries = list(self._entries.values())
        self._entries.clear()
        self.connectors.clear()
        try:
            for entry in entries:
                await self._stop_entry(entry)
        finally:
            await self._end_group()

    async def _end_group(self) -> None:
        host, self._host, self._group = self._host, None, None
        self._closing.set()
        if host is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await host
        self._closing = asyncio.Event()

    async def __aenter__(self) -> ConnectorSupervisor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _forget(self, name: str) -> None:
        self._entries.pop(name, None)
        self.connectors.pop(name, None)

    async def _stop_entry(self, entry: _Supervised) -> None:
        # Close first: a consumer blocked on its source then sees the end of its stream.
        # Cancel too: it may be sleeping out a backoff or waiting for the store.
        try:
            await entry.connector.aclose()
        except Exception:  # a connector that fails to close must not keep the rest open
            log.exception("closing connector %s failed", entry.connector.name)
        task = entry.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _task_group(self) -> asyncio.TaskGroup:
        """The one task group, run by a host task until ``aclose``: a group must be
        entered and left by the same task, and the service's callers (the lifespan, API
        handlers, tests) are all different tasks."""
        if self._group is None:
            ready: asyncio.Future[asyncio.TaskGroup] = asyncio.get_running_loop().create_future()
            self._host = asyncio.create_task(self._run_group(ready), name="connector-supervisor")
            self._group = await ready
        return self._group

    async def _run_group(self, ready: asyncio.Future[asyncio.TaskGroup]) -> None:
        async with asyncio.TaskGroup() as group:
            ready.set_result(group)
            await self._closing.wait()

    # -- health ------------------------------------------------------------------------------

    def health(self) -> list[ConnectorHealth]:
        return [self._health_of(entry) for entry in self._entries.values()]

    def health_of(self, name: str) -> ConnectorHealth:
        entry = self._entries.get(name)
        if entry is None:
            raise NotFound(f"no connector {name!r}")
        return self._health_of(entry)

    @staticmethod
    def _health_of(entry: _Supervised) -> ConnectorHealth:
        health = entry.connector.health()
        state = entry.state
        # Running, but the source is not (yet, or any more) all there: an MQTT session
        # whose SUBACK waits behind a backlog, a client process being replaced.
        if state == "running" and not (health.connected and health.ready):
            state = "connecting"
        health.state = state
        health.since = entry.since
        health.restarts = entry.restarts
        health.last_error = entry.last_error
        health.last_error_at = entry.last_error_at
        health.rejected_deliveries = entry.rejected
        health.retries = entry.retries
        health.failed_after_commit = entry.after_commit
        return health

    def _set(self, entry: _Supervised, state: str) -> None:
        if entry.state != state:
            entry.state = state
            entry.since = self._clock()
            # Connectors hand out one health object: whoever holds it (the answer to the
            # API call that started the connector) sees the state too.
            with contextlib.suppress(Exception):
                self._health_of(entry)

    def _error(self, entry: _Supervised, exc: BaseException, where: str) -> None:
        entry.last_error = cut(f"{where}: {type(exc).__name__}: {exc}", _KEPT_CHARS)
        entry.last_error_at = self._clock()

    # -- one connector's consumer ------------------------------------------------------------

    async def _supervise(self, entry: _Supervised, *, started: bool) -> None:
        connector = entry.connector
        while True:
            if not started:
                self._set(entry, "connecting")
                try:
                    await connector.start()
                except Exception as exc:
                    self._error(entry, exc, "start")
                    log.warning("connector %s did not start: %s", connector.name, exc)
                    if not await self._back_off(entry):
                        return
                    continue
                started = True
            self._set(entry, "running")
            try:
                async for delivery in connector.deliveries():
                    await self._deliver(entry, delivery)
            except Exception as exc:
                self._error(entry, exc, "consumer")
                log.exception("connector %s failed; restarting it", connector.name)
                started = False
                with contextlib.suppress(Exception):
                    await connector.aclose()  # release it before the next start
                if not await self._back_off(entry):
                    return
                continue
            # The stream ended on its own: a replay that reached the end of its file.
            self._set(entry, "finished")
            return

    async def _back_off(self, entry: _Supervised) -> bool:
        """Wait before the next attempt; False (and ``failed``) past ``max_restarts``."""
        entry.failures += 1
        if self.max_restarts is not None and entry.failures > self.max_restarts:
            self._set(entry, "failed")
            with contextlib.suppress(Exception):
                await entry.connector.aclose()
            return False
        self._set(entry, "restarting")
        entry.restarts += 1
        await asyncio.sleep(self.backoff.delay(entry.failures - 1, self._random))
        return True

    async def _deliver(self, entry: _Supervised, delivery: Delivery) -> None:
        """Commit one delivery whatever is in it, then ack it; retry while the store fails."""
        work = _Work(delivery)
        attempt = 0
        while True:
            try:
                await self._commit(entry, work)
                break
            except (StoreError, Overloaded) as exc:
                # Not the message's fault: keep it, ack nothing, try again — after the
                # writer's own ``retry_after`` when it is the twin that is busy.
                self._error(entry, exc, "busy" if isinstance(exc, Overloaded) else "store")
                entry.retries += 1
                self._set(entry, "retrying")
                delay = self.backoff.delay(attempt, self._random)
                if isinstance(exc, Overloaded):
                    delay = max(delay, exc.retry_after)
                await asyncio.sleep(delay)
                attempt += 1
        self._set(entry, "running")
        entry.failures = 0
        if delivery.ack is not None:
            await delivery.ack()

    async def _commit(self, entry: _Supervised, work: _Work) -> None:
        """Ingest ``work``'s readings; readings that make ingest raise are dead-lettered.

        A batch that raises is halved until the readings that raise are alone: a single
        bad reading among 5,000 costs about 2·log2(5,000) ≈ 25 ingests, and the good ones
        are committed, not lost with it. ``work`` keeps its progress, so a StoreError
        halfway resumes where it stopped rather than committing a half twice."""
        batch = work.batch
        while work.chunks:
            chunk = work.chunks[0]
            try:
                await self._ingest(IncomingBatch(chunk, batch.source, batch.received_at,
                                                 batch.connector), work.letters)
            except (StoreError, Overloaded, asyncio.CancelledError):
                raise
            except FailedAfterCommit as exc:
                # Committed whole: as good as a success for this chunk and its letters.
                work.chunks.popleft()
                work.letters = []
                entry.after_commit += 1
                self._error(entry, exc, "after commit")
                log.error("connector %s: a delivery was committed, then failed: %s",
                          entry.connector.name, exc, exc_info=exc)
                continue
            except Exception as exc:
                work.chunks.popleft()
                if len(chunk) > 1:
                    middle = len(chunk) // 2
                    work.chunks.extendleft((chunk[middle:], chunk[:middle]))
                    continue
                self._error(entry, exc, "ingest")
                log.warning("connector %s: a delivery's ingest raised %s: %s; kept as a "
                            "dead letter", entry.connector.name, type(exc).__name__, exc)
                work.reject(chunk, exc, entry.connector.name)
                continue
            work.chunks.popleft()
            work.letters = []  # committed with that chunk
        if work.rejected:
            await self._add_dead_letters(work.rejected)
            entry.rejected += 1
            work.rejected = []


class _Work:
    """What is left of one delivery: chunks of readings to ingest, letters not yet
    committed, and the dead letters made of readings that raised."""

    __slots__ = ("batch", "chunks", "letters", "rejected")

    def __init__(self, delivery: Delivery) -> None:
        self.batch = delivery.batch
        self.chunks: deque[list[RawReading]] = deque([list(delivery.batch.readings)])
        self.letters: list[DeadLetter] = list(delivery.dead_letters)
        self.rejected: list[DeadLetter] = []

    def reject(self, chunk: list[RawReading], exc: Exception, connector: str) -> None:
        detail = cut(f"connector {connector}: ingest raised {type(exc).__name__}: {exc}",
                     _KEPT_CHARS)
        batch = self.batch
        for reading in chunk:
            self.rejected.append(DeadLetter(batch.received_at, batch.source, INGEST_ERROR,
                                            detail, _reading_payload(reading)))
        if self.letters:
            # The chunk carried the delivery's own dead letters and may have failed on
            # them: they are kept, with payloads any store can write.
            self.rejected.extend(
                DeadLetter(letter.received_at, letter.source, letter.reason, letter.detail,
                           _safe(letter.payload)) for letter in self.letters)
            self.letters = []


def _reading_payload(reading: RawReading) -> dict[str, Any]:
    return {name: _safe(value) for name, value in zip(RawReading._fields, reading, strict=True)}


def _safe(value: Any) -> Any:
    """A value any store can write: JSON scalars and bytes as they are (the store bounds
    what it keeps of a payload), anything else as its short ``repr``."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    return short_repr(value)
