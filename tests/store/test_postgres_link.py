"""The PostgreSQL store after a lost connection: a write that raises has committed
nothing, its retry is stored once, and the store comes back by itself as soon as the
server does — with a backend terminated under it, and with a whole server stopped and
started again (a throw-away cluster of its own, never the shared one)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from tests.store.conftest import batch_of

from twinsync.errors import StoreError
from twinsync.pipeline import Batch, DeadLetter
from twinsync.store.postgres import PostgresStore

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _batch(number: int, size: int = 10) -> Batch:
    """Batch ``number``: sensor ``number % 5``, seq unique over every batch."""
    batch = batch_of([number % 5] * size, [number * 100.0 + k for k in range(size)],
                     [float(number)] * size)
    batch.seq = np.arange(number * size, (number + 1) * size, dtype=np.int64)
    return batch


def _letter(number: int) -> DeadLetter:
    return DeadLetter(time.time(), "test", "unknown_sensor", f"batch {number}", {"n": number})


def _stored_seqs(store: PostgresStore) -> list[int]:
    return sorted(int(s) for row in range(5) for s in store.history(row, -1.0, 1e12).seq)


def _terminate(admin_url: str, schema: str, what: str = "") -> int:
    """Terminate every backend of the store on ``schema`` (named by application_name)."""
    with psycopg.connect(admin_url, autocommit=True) as c:
        rows = c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND query LIKE %s",
            (schema, f"{what}%")).fetchall()
    return len(rows)


def _commit_until_stored(store: PostgresStore, number: int, deadline: float = 30.0) -> int:
    """Commit batch ``number`` as a caller that retries does; returns the failures."""
    failures = 0
    give_up = time.monotonic() + deadline
    while True:
        try:
            store.commit(_batch(number), [_letter(number)])
            return failures
        except StoreError:
            failures += 1
            if time.monotonic() > give_up:
                raise
            time.sleep(0.01)


def test_a_commit_whose_backend_is_terminated_raises_and_its_retry_is_stored_once(
        schema_url: str, postgres_url: str) -> None:
    schema = schema_url.split("schema=")[1]
    store = PostgresStore(f"{schema_url}&application_name={schema}")
    try:
        store.commit(_batch(0), [_letter(0)])
        # Another session holds the journal, so the next commit waits inside its
        # transaction, where the terminate finds it.
        with psycopg.connect(postgres_url) as blocker:
            blocker.execute(f'LOCK TABLE "{schema}".journal IN ACCESS EXCLUSIVE MODE')
            failed: list[BaseException] = []

            def commit_batch_1() -> None:
                try:
                    store.commit(_batch(1), [_letter(1)])
                except BaseException as exc:
                    failed.append(exc)

            committer = threading.Thread(target=commit_batch_1)
            committer.start()
            for _ in range(500):
                if _terminate(postgres_url, schema, "INSERT INTO journal"):
                    break
                time.sleep(0.01)
            committer.join(10)
            blocker.rollback()
        assert len(failed) == 1 and isinstance(failed[0], StoreError)
        health = store.health()
        assert health["last_error"] and "writer" in health["last_error"]
        store.commit(_batch(1), [_letter(1)])  # the caller's retry
        assert _stored_seqs(store) == list(range(20))
        assert store.counts()["dead_letters"] == 2
        assert store.health()["reconnects"] >= 1 and store.health()["connected"]
    finally:
        store.close()
    reopened = PostgresStore(schema_url)
    try:
        assert _stored_seqs(reopened) == list(range(20))
    finally:
        reopened.close()


def test_a_commit_the_server_aborts_during_commit_is_reported_failed_and_not_kept(
        schema_url: str, postgres_url: str) -> None:
    """The connection goes while COMMIT runs: the store asks the server what became of
    the transaction (here: aborted) instead of guessing."""
    schema = schema_url.split("schema=")[1]
    store = PostgresStore(f"{schema_url}&application_name={schema}")
    flag = int(uuid.uuid4().int % 2**31)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as c:
            # A deferred trigger runs inside COMMIT: while the test holds the flag's
            # advisory lock, the committing backend terminates itself there.
            c.execute(f'SET search_path TO "{schema}"')
            c.execute(f"""
                CREATE FUNCTION die_in_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
                               AND objid = {flag} AND granted) THEN
                        PERFORM pg_terminate_backend(pg_backend_pid());
                        PERFORM pg_sleep(5);
                    END IF;
                    RETURN NULL;
                END $$""")
            c.execute("CREATE CONSTRAINT TRIGGER die_in_commit AFTER INSERT ON journal "
                      "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
                      "die_in_commit()")
            c.execute("SELECT pg_advisory_lock(%s)", (flag,))
            with pytest.raises(StoreError):
                store.commit(_batch(0), [_letter(0)])
            c.execute("SELECT pg_advisory_unlock(%s)", (flag,))
        assert store.counts() == {**store.counts(), "readings": 0, "dead_letters": 0}
        store.commit(_batch(0), [_letter(0)])
        assert _stored_seqs(store) == list(range(10))
    finally:
        store.close()


def test_a_commit_reported_failed_that_the_server_did_commit_is_taken_back(
        schema_url: str) -> None:
    """When the server cannot say at once what became of a lost COMMIT, the store asks
    again before its next write and takes the rows back if it happened: the caller was
    told it failed and sends the batch again."""
    from twinsync.store.postgres import InDoubt

    store = PostgresStore(schema_url)
    try:
        store.commit(_batch(0), [])
        letter = _letter(1)
        # What the write would have done before its answer was lost: committed rows
        # the caller never heard of.
        with psycopg.connect(schema_url.split("?")[0], autocommit=True) as c:
            c.execute(f'SET search_path TO "{store.schema}"')
            with c.transaction():
                xid = c.execute("SELECT pg_current_xact_id()::text").fetchone()
                journal = c.execute("INSERT INTO journal (rows) VALUES ('\\x00') "
                                    "RETURNING id").fetchone()
                dead = c.execute("INSERT INTO dead_letters (received_at, source, reason, "
                                 "detail, payload) VALUES (0, 'x', 'y', 'z', '{}') "
                                 "RETURNING id").fetchone()
                c.execute("INSERT INTO totals VALUES ('dead_letters', 1), ('accepted', 20)")
        assert xid and journal and dead
        store._in_doubt = InDoubt(int(journal[0]), [int(dead[0])], [], str(xid[0]),
                                  added={"dead_letters": 1, "accepted": 20})
        store.commit(_batch(1), [letter], counts={"accepted": 10})
        assert store.counts()["dead_letters"] == 1
        # Its totals are taken back with it: what is left counts the commit that was told.
        assert store.totals() == {"dead_letters": 1, "accepted": 10}
        assert store.health()["in_doubt"] is False
    finally:
        store.close()
    reopened = PostgresStore(schema_url)
    try:
        assert reopened.load_problems() == []  # the half-row was taken back, not set aside
        assert _stored_seqs(reopened) == list(range(20))
    finally:
        reopened.close()


def test_ingest_with_its_backends_terminated_again_and_again_loses_and_doubles_nothing(
        schema_url: str, postgres_url: str) -> None:
    schema = schema_url.split("schema=")[1]
    store = PostgresStore(f"{schema_url}&application_name={schema}&seal_rows=300")
    batches = 300
    stop = threading.Event()
    terminated = []

    def keep_terminating() -> None:
        while not stop.is_set():
            terminated.append(_terminate(postgres_url, schema))
            time.sleep(0.03)

    killer = threading.Thread(target=keep_terminating)
    killer.start()
    failures = 0
    try:
        try:
            for number in range(batches):
                failures += _commit_until_stored(store, number)
        finally:
            stop.set()
            killer.join()
        for _ in range(100):  # a background seal may have failed: seal the rest now
            try:
                store.seal()
                break
            except StoreError:
                time.sleep(0.05)
        assert sum(terminated) > 10
        assert _stored_seqs(store) == list(range(batches * 10))
        assert store.counts()["dead_letters"] == batches
        assert store.health()["reconnects"] >= 10
    finally:
        store.close()
    reopened = PostgresStore(schema_url)
    try:
        assert _stored_seqs(reopened) == list(range(batches * 10))
        assert len({d.detail for d in reopened.dead_letters(limit=1000)}) == batches
    finally:
        reopened.close()
    print(f"{sum(terminated)} backends terminated, {failures} commits retried")


# -- a server of its own, stopped and started -------------------------------------------------


def _free_port() -> int:
    for port in range(5441, 5500):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port for a throw-away PostgreSQL")


class Cluster:
    """A throw-away PostgreSQL cluster under /tmp, run as the postgres user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="twinsync-pg-"))
        shutil.chown(self.folder, "postgres")
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BINARIES[-1] / tool), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-w", "-o", f"-p {self.port} -k {self.folder} "
                  "-c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BINARIES[-1] / "pg_ctl"),
                        "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not BINARIES or shutil.which("runuser") is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    server = Cluster()
    try:
        server.start()
        yield server
    finally:
        server.remove()


def test_a_store_whose_server_is_down_fails_fast_and_recovers_by_itself(
        cluster: Cluster) -> None:
    store = PostgresStore(f"{cluster.url}?schema=outage")
    try:
        store.commit(_batch(0), [_letter(0)])
        cluster.stop()
        started = time.monotonic()
        for number in (1, 1, 1):
            with pytest.raises(StoreError):
                store.commit(_batch(number), [_letter(number)])
        with pytest.raises(StoreError):
            store.history(0, 0.0, 1e9)
        assert time.monotonic() - started < 3.0  # down means an answer at once, not a hang
        health = store.health()
        assert health["connected"] is False and health["down_since"] is not None
        cluster.start()
        back = time.monotonic()
        _commit_until_stored(store, 1, deadline=10.0)
        recovered = time.monotonic() - back
        assert recovered < 5.0
        store.commit(_batch(2), [_letter(2)])
        assert _stored_seqs(store) == list(range(30))
        health = store.health()
        assert health["connected"] is True and health["down_since"] is None
        assert health["reconnects"] >= 1
    finally:
        store.close()
    print(f"recovered {recovered:.2f} s after the server was back")
