"""The one writer: one job at a time, reads before waiting writes, and a bound on work
waiting that answers at once instead of queueing what clients will have given up on."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from twinsync.errors import Overloaded
from twinsync.service.writer import Writer


async def test_every_job_runs_on_the_one_writer_thread() -> None:
    async with Writer() as writer:
        names = await asyncio.gather(*(writer.write(lambda: threading.current_thread().name)
                                       for _ in range(20)))
        names.append(await writer.read(lambda: threading.current_thread().name))
    assert set(names) == {"twinsync-writer"}


async def test_a_read_goes_before_writes_that_have_not_started() -> None:
    order: list[str] = []
    gate = threading.Event()
    async with Writer() as writer:
        blocking = asyncio.ensure_future(writer.write(gate.wait))
        await asyncio.sleep(0.05)
        writes = [asyncio.ensure_future(writer.write(order.append, f"write {n}"))
                  for n in range(3)]
        await asyncio.sleep(0.05)
        read = asyncio.ensure_future(writer.read(order.append, "read"))
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(blocking, read, *writes)
    assert order == ["read", "write 0", "write 1", "write 2"]


async def test_a_full_writer_refuses_at_once_and_takes_work_again_when_it_drains() -> None:
    gate = threading.Event()
    async with Writer(max_pending_jobs=2) as writer:
        first = asyncio.ensure_future(writer.write(gate.wait))
        second = asyncio.ensure_future(writer.write(lambda: "queued"))
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        with pytest.raises(Overloaded) as refused:
            await writer.write(lambda: "refused")
        assert time.perf_counter() - started < 0.1
        assert refused.value.retry_after > 0
        gate.set()
        assert await second == "queued"
        await first
        assert await writer.write(lambda: "taken") == "taken"
        assert writer.refused == 1


async def test_readings_waiting_are_bounded_too() -> None:
    gate = threading.Event()
    async with Writer(max_pending_readings=1000) as writer:
        first = asyncio.ensure_future(writer.write(gate.wait, readings=600))
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded):
            await writer.write(lambda: None, readings=600)
        gate.set()
        await first
        await writer.write(lambda: None, readings=600)


async def test_a_write_whose_caller_has_gone_is_never_done() -> None:
    done: list[int] = []
    gate = threading.Event()
    async with Writer() as writer:
        blocking = asyncio.ensure_future(writer.write(gate.wait))
        await asyncio.sleep(0.05)
        abandoned = asyncio.ensure_future(writer.write(done.append, 1))
        await asyncio.sleep(0.05)
        abandoned.cancel()  # the client disconnected while the job waited
        await asyncio.sleep(0.01)  # the cancellation reaches the job a loop turn later
        gate.set()
        await blocking
        await writer.write(done.append, 2)
        assert writer.pending == (0, 0)
    assert done == [2]


async def test_a_write_that_waited_too_long_is_refused_unstarted() -> None:
    done: list[int] = []
    async with Writer(max_wait=0.05) as writer:
        blocking = asyncio.ensure_future(writer.write(time.sleep, 0.2))
        await asyncio.sleep(0.01)
        with pytest.raises(Overloaded):
            await writer.write(done.append, 1)
        await blocking
    assert done == []


async def test_a_failing_job_fails_its_caller_only() -> None:
    async with Writer() as writer:
        with pytest.raises(ZeroDivisionError):
            await writer.write(lambda: 1 / 0)
        assert await writer.write(lambda: 2) == 2


async def test_closing_finishes_the_jobs_already_queued() -> None:
    done: list[int] = []
    writer = Writer()
    jobs = [asyncio.ensure_future(writer.write(done.append, n)) for n in range(5)]
    await asyncio.sleep(0)
    await writer.aclose()
    await asyncio.gather(*jobs)
    assert done == [0, 1, 2, 3, 4]
    with pytest.raises(Overloaded):
        await writer.write(done.append, 5)
