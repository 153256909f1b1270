"""The one writer: a single thread that owns the twin's live state.

Every change of live state (a batch of readings, a twin operation, a clock sync, a health
tick) and every read of it runs as a job on this one thread, one job at a time. No lock
guards the state because nothing else touches it: a reader never sees a batch half folded
in, and an import never changes a dictionary while a reader walks it.

Reads go before writes that have not started yet, so a dashboard stays responsive while a
backlog of batches waits. Writes are admitted against a bound (jobs and readings waiting):
past it the writer refuses at once with ``Overloaded`` (HTTP 503 with ``Retry-After``)
rather than queueing work a client will have given up on; a write that waited longer than
``max_wait`` seconds is dropped unstarted for the same reason. Both bounds keep memory
bounded under overload and let the service recover as soon as the load falls.

>>> import asyncio
>>> async def demo() -> list[int]:
...     async with Writer() as writer:
...         return [await writer.write(lambda: 1 + 1), await writer.read(len, [1, 2, 3])]
>>> asyncio.run(demo())
[2, 3]
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import Overloaded

T = TypeVar("T")

#: Jobs waiting to be written before new ones are refused.
MAX_PENDING_JOBS = 256
#: Readings waiting to be written before new batches are refused: about a second of
#: work at the rates this machine sustains, and a bound on the memory a backlog holds.
MAX_PENDING_READINGS = 500_000
#: A write that waited this long is not started: its client has most likely given up.
MAX_WAIT_SECONDS = 10.0

_READ, _WRITE, _STOP = 0, 1, 2


@dataclass(order=True, slots=True)
class _Job:
    priority: int
    number: int
    run: Callable[[], Any] = field(compare=False)
    future: Future[Any] = field(compare=False)
    queued_at: float = field(compare=False, default=0.0)
    readings: int = field(compare=False, default=0)


class Writer:
    """Runs jobs on one thread. Use as an async context manager, or call ``aclose()``."""

    def __init__(self, *, max_pending_jobs: int = MAX_PENDING_JOBS,
                 max_pending_readings: int = MAX_PENDING_READINGS,
                 max_wait: float = MAX_WAIT_SECONDS, name: str = "twinsync-writer") -> None:
        self.max_pending_jobs = max_pending_jobs
        self.max_pending_readings = max_pending_readings
        self.max_wait = max_wait
        self._jobs: queue.PriorityQueue[_Job] = queue.PriorityQueue()
        self._numbers = itertools.count()
        self._pending_jobs = 0
        self._pending_readings = 0
        self._count_lock = threading.Lock()
        self._closed = False
        self.refused = 0
        """Writes refused because the writer was full or they waited too long."""
        self.busy_seconds = 0.0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    async def __aenter__(self) -> Writer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def pending(self) -> tuple[int, int]:
        """(jobs, readings) waiting to be written."""
        return self._pending_jobs, self._pending_readings

    def on_thread(self) -> bool:
        """True when called from the writer's own thread (a job that calls another)."""
        return threading.current_thread() is self._thread

    async def write(self, run: Callable[..., T], *args: Any, readings: int = 0) -> T:
        """Run a change of live state on the writer, after the writes before it.

        ``readings`` is the size of the batch, for admission. Raises ``Overloaded`` at once
        when the writer is full, or when the job waited past ``max_wait`` unstarted."""
        with self._count_lock:
            if self._closed:
                raise Overloaded("the twin is shutting down", retry_after=5.0)
            full = (self._pending_jobs >= self.max_pending_jobs
                    or (readings and self._pending_readings
                        and self._pending_readings + readings > self.max_pending_readings))
            if full:
                self.refused += 1
                raise Overloaded(
                    f"the twin is busy ({self._pending_jobs} writes, "
                    f"{self._pending_readings} readings waiting)", retry_after=1.0)
            self._pending_jobs += 1
            self._pending_readings += readings
        return await self._submit(_WRITE, run, args, readings)

    async def read(self, run: Callable[..., T], *args: Any) -> T:
        """Run a read of live state on the writer, before writes not yet started."""
        if self.on_thread():
            return run(*args)
        if self._closed:
            raise Overloaded("the twin is shutting down", retry_after=5.0)
        return await self._submit(_READ, run, args, 0)

    async def _submit(self, priority: int, run: Callable[..., T], args: tuple[Any, ...],
                      readings: int) -> T:
        future: Future[T] = Future()
        job = _Job(priority, next(self._numbers), lambda: run(*args), future,
                   time.monotonic(), readings)
        self._jobs.put(job)
        # If the caller goes away first, the job is cancelled and never started.
        return await asyncio.wrap_future(future)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job.priority == _STOP:
                job.future.set_result(None)
                return
            if not job.future.set_running_or_notify_cancel():
                self._done(job)
                continue  # its caller has gone: the work is not done
            if job.priority == _WRITE and time.monotonic() - job.queued_at > self.max_wait:
                self.refused += 1
                self._done(job)
                job.future.set_exception(Overloaded(
                    f"waited {self.max_wait:g} s for the writer", retry_after=1.0))
                continue
            started = time.perf_counter()
            failure: BaseException | None = None
            try:
                result = job.run()
            except BaseException as exc:  # handed to the caller, the loop goes on
                failure = exc
            self.busy_seconds += time.perf_counter() - started
            # Counted out before the caller hears: one that resumes on its answer must not
            # find its own job still pending.
            self._done(job)
            if failure is not None:
                job.future.set_exception(failure)
            else:
                job.future.set_result(result)

    def _done(self, job: _Job) -> None:
        if job.priority == _WRITE:
            with self._count_lock:
                self._pending_jobs -= 1
                self._pending_readings -= job.readings

    async def aclose(self) -> None:
        """Finish the jobs already queued, then stop the thread. Safe to call twice."""
        with self._count_lock:
            if self._closed:
                return
            self._closed = True
        stop: Future[None] = Future()
        # After every queued read and write: number order breaks the tie within a priority.
        self._jobs.put(_Job(_STOP, next(self._numbers), lambda: None, stop))
        await asyncio.wrap_future(stop)
        await asyncio.to_thread(self._thread.join)
