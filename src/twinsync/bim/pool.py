"""Geometry worker processes: tessellate elements where a crashing kernel harms no one else.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies, the
whole pool is broken and every pending future fails with BrokenProcessPool, without
saying which task killed it, and a task that hangs cannot be stopped. Both are the cases
this pool exists for. So each worker is a ``multiprocessing`` process with a pipe of its
own and one element in hand at a time: when its process sentinel fires, the parent knows
the element that crashed it; when an element runs past its deadline, the parent kills
that worker alone. Either way the element gets an outcome (``Crashed``, ``TimedOut``), a
fresh worker takes the next one, and every other element is unaffected.

Workers start with ``forkserver`` where the platform has it (else ``spawn``), never
``fork``: the twin is a threaded server, and a forked copy of its locks may deadlock.
The fork server preloads IfcOpenShell and the main module, so a worker costs a fork and
opening the model.
As with every start method but ``fork``, a worker imports the main module again: a script
that exports must keep its top level under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from . import tessellate
from .tessellate import Mesh, TessellationError

DEFAULT_TIMEOUT = 120.0  # seconds one element may take before its worker is killed
BATCH = 16  # jobs handed to a worker at once


@dataclass(frozen=True, slots=True)
class Job:
    global_id: str
    kernel: str


@dataclass(frozen=True, slots=True)
class Failed:
    """The element has no mesh from this kernel: ``reason`` says why, ``detail`` more."""

    reason: str  # kernel_error, no_body, empty, crashed, timed_out
    detail: str


Outcome = Mesh | Failed


class WorkerStartError(RuntimeError):
    """A geometry worker died before it could open the model."""


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # The main module too: every worker would import it again otherwise.
        context.set_forkserver_preload(["__main__", "twinsync.bim.pool"])
        return context
    return multiprocessing.get_context("spawn")


def _serve(connection: Connection, model_path: str, fault: str | None) -> None:
    """A worker's life: open the model, then answer each job of each batch in turn until
    told to stop (an empty batch)."""
    try:
        tessellate.open_model(model_path, fault)
    except Exception:  # the parent reads the same file and says what is wrong with it
        return
    connection.send("ready")
    while True:
        batch: list[Job] = connection.recv()
        if not batch:
            return
        for job in batch:
            try:
                outcome: Outcome = tessellate.tessellate(job.global_id, job.kernel)
            except TessellationError as exc:
                outcome = Failed(exc.reason, exc.detail)
            except Exception as exc:  # anything else the kernel raises is one element's
                outcome = Failed("kernel_error", f"{type(exc).__name__}: {exc}")
            connection.send(outcome)


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    ready: bool = False
    jobs: deque[Job] = field(default_factory=deque)  # in its hands, in the order it works
    deadline: float = 0.0  # for the first of them


class GeometryPool:
    """Up to ``workers`` processes tessellating one model; close it (or use ``with``)."""

    def __init__(self, model_path: str, *, workers: int = 2,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.model_path = model_path
        self.size = max(1, workers)
        self.timeout = timeout
        self.fault = os.environ.get(tessellate.FAULT_HOOK) or None
        self._context = _context()
        self._workers: list[_Worker] = []

    def __enter__(self) -> GeometryPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start every worker now, so they open the model while the caller does more."""
        while len(self._workers) < self.size:
            self._start()

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[Job, Outcome]]:
        """Each job with its outcome, in the order they finish."""
        queue = deque(jobs)
        while len(self._workers) < min(self.size, len(queue)):
            self._start()
        while queue or any(w.jobs for w in self._workers):
            for worker in self._workers:
                if worker.ready and not worker.jobs and queue:
                    # A few jobs at a time spare a round trip per element; the worker
                    # answers each on its own, so the first unanswered one is the one
                    # it is working on, the one a crash or a timeout is blamed on.
                    share = max(1, min(BATCH, len(queue) // len(self._workers)))
                    worker.jobs.extend(queue.popleft() for _ in range(share))
                    worker.deadline = time.monotonic() + self.timeout
                    worker.connection.send(list(worker.jobs))
            yield from self._collect(queue)

    def _collect(self, queue: deque[Job]) -> Iterator[tuple[Job, Outcome]]:
        busy = [w.deadline for w in self._workers if w.jobs]
        wait_for = max(0.0, min(busy) - time.monotonic()) if busy else None
        waitables: list[Any] = [w.connection for w in self._workers]
        waitables += [w.process.sentinel for w in self._workers]
        ready = set(wait(waitables, timeout=wait_for))
        for worker in list(self._workers):
            if worker.connection in ready:
                try:
                    while True:  # everything it has sent so far
                        message = worker.connection.recv()
                        if message == "ready":
                            worker.ready = True
                        elif worker.jobs:
                            worker.deadline = time.monotonic() + self.timeout
                            yield worker.jobs.popleft(), message
                        if not worker.connection.poll():
                            break
                    continue
                except (EOFError, OSError):
                    pass  # it died: the sentinel says how
            if worker.process.sentinel in ready or not worker.process.is_alive():
                yield from self._lost(worker, queue, Failed("crashed",
                                                            self._crash_detail(worker)))
            elif worker.jobs and time.monotonic() >= worker.deadline:
                worker.process.kill()
                yield from self._lost(worker, queue, Failed(
                    "timed_out", f"no result after {self.timeout:g} s"))

    def _lost(self, worker: _Worker, queue: deque[Job],
              failure: Failed) -> Iterator[tuple[Job, Outcome]]:
        """Forget a dead worker: the job in its hands failed, the ones after it go back to
        the queue, and another worker starts if there is work left."""
        worker.process.join()
        worker.connection.close()
        self._workers.remove(worker)
        if not worker.ready:
            raise WorkerStartError(f"a geometry worker could not open {self.model_path}: "
                                   f"{failure.detail}")
        if worker.jobs:
            yield worker.jobs.popleft(), failure
            queue.extendleft(reversed(worker.jobs))
        if queue:
            self._start()

    @staticmethod
    def _crash_detail(worker: _Worker) -> str:
        worker.process.join()
        code = worker.process.exitcode
        if code is not None and code < 0:
            try:
                return f"the kernel's process died of {signal.Signals(-code).name}"
            except ValueError:
                return f"the kernel's process died of signal {-code}"
        return f"the kernel's process exited with status {code}"

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child, self.model_path, self.fault), daemon=True,
            name="twinsync-geometry")
        process.start()
        child.close()
        self._workers.append(_Worker(process, parent))

    def close(self) -> None:
        """Stop every worker: asked to finish, killed if it does not within a second."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.connection.send([])
        for worker in self._workers:
            worker.process.join(1.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        self._workers.clear()
