"""One process per SQLite store: a second opener is refused at once, naming the holder;
the lock goes with the holder however it ends, ``kill -9`` included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twinsync.errors import StoreError
from twinsync.store.sqlite import SQLiteStore

HOLDER = """
import sys, time
from twinsync.store.sqlite import SQLiteStore
store = SQLiteStore(sys.argv[1])
print("ready", flush=True)
time.sleep(600)
"""


def _hold_in_another_process(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE,
                              text=True, env=env)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "ready"
    return holder


def test_a_second_process_is_refused_at_once_and_a_kill_9_releases_the_file(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    holder = _hold_in_another_process(url)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError, match=f"is in use by process {holder.pid}"):
            SQLiteStore(url)
        assert time.monotonic() - started < 1.0
    finally:
        holder.send_signal(signal.SIGKILL)
        assert holder.wait(10) == -signal.SIGKILL
        assert holder.stdout is not None
        holder.stdout.close()
    store = SQLiteStore(url)  # the OS let the lock go with the killed process
    store.close()


def test_a_second_store_on_the_same_file_in_one_process_is_refused_until_the_first_closes(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    first = SQLiteStore(url)
    with pytest.raises(StoreError, match=f"in use by process {os.getpid()}"):
        SQLiteStore(url)
    first.close()
    SQLiteStore(url).close()


def test_a_refused_opener_leaves_the_holders_store_working(tmp_path: Path) -> None:
    from tests.store.conftest import batch_of

    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    first = SQLiteStore(url)
    try:
        with pytest.raises(StoreError):
            SQLiteStore(url)
        first.commit(batch_of([0], [1.0], [2.0]), [])
        assert first.counts()["readings"] == 1
    finally:
        first.close()


def test_stores_in_memory_need_no_lock() -> None:
    one, two = SQLiteStore("sqlite://:memory:"), SQLiteStore("sqlite://:memory:")
    one.close()
    two.close()
