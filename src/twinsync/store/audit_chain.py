"""The audit log's hash chain: tamper evidence, retention that keeps it checkable.

Each entry stores ``prev``, the hash of the entry before it, and ``hash``, a SHA-256 over
``prev`` and everything the entry says (``link``). One row of ``audit_chain`` holds the
head (the newest entry's id and hash) and the anchor: where the chain starts, the zero
hash at first and, once old entries are pruned, the hash of the last one removed.

An entry is linked in the transaction that writes it, after taking the head: in SQLite the
transaction already holds the database's one write lock (``BEGIN IMMEDIATE``); in
PostgreSQL the head row is read ``FOR UPDATE``, so a second writer (the twin's store and
the tokens' connection, or two processes) waits at that row until the first commits, and
then reads the head that one left. Ids are drawn after the head is taken, so the chain's
order is the order of ids. Without that lock two writers would both link to the same head
and fork the chain.

``verify`` walks the chain from the anchor and reports the first entry that does not
follow (``prev`` is not the hash before it: an entry was removed, inserted or reordered)
or was changed (its hash is not that of what it says), and a head that is not the newest
entry (the newest entries were removed). What the chain cannot show is a rewrite of it
from some entry onwards, hashes included, by whoever can write the database: keep the
head that ``twinsync audit verify`` prints somewhere else and compare it later
(``expect``).

The SQL is written in a driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg);
``execute`` is a connection's or cursor's ``execute``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput, StoreError
from . import audit
from .audit import Actor, AuditEntry

Execute = Callable[..., Any]
GENESIS = bytes(32)
#: Entries read at a time by ``verify`` and ``prune``.
PAGE = 1000
#: Most entries one prune's transaction removes: the head stays locked (in SQLite, the
#: whole file) while it runs, and a first prune of years of log must not hold up the
#: twin's commits for seconds. A longer prune is several transactions, each recorded.
PRUNE_BATCH = 10_000

SQLITE_CHAIN = """
CREATE TABLE IF NOT EXISTS audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1), head_id INTEGER NOT NULL, head_hash BLOB NOT NULL,
    anchor_id INTEGER NOT NULL, anchor_hash BLOB NOT NULL, anchor_time REAL)
"""
POSTGRES_CHAIN = """
CREATE TABLE IF NOT EXISTS audit_chain (
    id integer PRIMARY KEY CHECK (id = 1), head_id bigint NOT NULL, head_hash bytea NOT NULL,
    anchor_id bigint NOT NULL, anchor_hash bytea NOT NULL, anchor_time double precision);
ALTER TABLE audit ADD COLUMN IF NOT EXISTS prev bytea;
ALTER TABLE audit ADD COLUMN IF NOT EXISTS hash bytea;
"""
CONTENT = ("time, actor, role, token_id, operation, target, element_id, sensor_id, "
           "before, after")


def _field(value: object) -> bytes:
    """One value as hashed: typed, so None, "" and 0 differ; a float by its exact repr."""
    if value is None:
        return b"n"
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b" + bytes(value)
    if isinstance(value, int | float):
        return b"f" + repr(float(value)).encode()
    return b"s" + str(value).encode()


def link(prev: bytes, content: Sequence[object]) -> bytes:
    """The hash of an entry whose content (``audit.row_of``'s order) follows ``prev``."""
    h = hashlib.sha256(b"twinsync audit 1\0")
    h.update(prev)
    for value in content:
        field = _field(value)
        h.update(len(field).to_bytes(8, "big"))
        h.update(field)
    return h.digest()


def prepare(execute: Execute, mark: str) -> None:
    """The chain's row, and links for entries written before there was a chain (an older
    store) or by an older twinsync beside this one: they are appended to the chain as
    they stand. Runs in the transaction that creates the tables."""
    execute(f"INSERT INTO audit_chain VALUES (1, 0, {mark}, 0, {mark}, NULL) "
            "ON CONFLICT (id) DO NOTHING", (GENESIS, GENESIS))
    head_id, head = _head(execute, mark, lock=mark == "%s")
    unlinked = execute(f"SELECT id, {CONTENT} FROM audit WHERE id > {mark} AND hash IS NULL "
                       "ORDER BY id", (head_id,)).fetchall()
    for entry_id, *content in unlinked:
        digest = link(head, content)
        execute(f"UPDATE audit SET prev = {mark}, hash = {mark} WHERE id = {mark}",
                (head, digest, entry_id))
        head_id, head = entry_id, digest
    if unlinked:
        _set_head(execute, mark, head_id, head)


def prepare_sqlite(connection: Any) -> None:
    """``prepare`` for a SQLite file: the columns added if missing, in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(SQLITE_CHAIN)
        columns = {row[1] for row in connection.execute("PRAGMA table_info(audit)")}
        for column in ("prev", "hash"):
            if column not in columns:
                connection.execute(f"ALTER TABLE audit ADD COLUMN {column} BLOB")
        prepare(connection.execute, "?")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _head(execute: Execute, mark: str, lock: bool = False) -> tuple[int, bytes]:
    # In PostgreSQL the row lock is what serialises writers; SQLite's transaction holds
    # the file's write lock already (and has no FOR UPDATE).
    row = execute("SELECT head_id, head_hash FROM audit_chain WHERE id = 1"
                  + (" FOR UPDATE" if lock else "")).fetchone()
    return int(row[0]), bytes(row[1])


def _set_head(execute: Execute, mark: str, head_id: int, head: bytes) -> None:
    execute(f"UPDATE audit_chain SET head_id = {mark}, head_hash = {mark} WHERE id = 1",
            (head_id, head))


def append(c: Any, mark: str, entries: Sequence[AuditEntry]) -> None:
    """Write ``entries`` at the chain's head in the caller's transaction, and set their
    ids. ``c`` is a sqlite3 connection, or a psycopg cursor (``mark`` ``%s``): there the
    head's row is locked until commit and the rows go in one pipelined round trip."""
    if not entries:
        return
    postgres = mark == "%s"
    head_id, head = _head(c.execute, mark, lock=postgres)
    rows = []
    for entry in entries:
        content = audit.row_of(entry)
        digest = link(head, content)
        rows.append((*content, head, digest))
        head = digest
    sql = (f"INSERT INTO audit ({audit.COLUMNS}, prev, hash) "
           f"VALUES ({', '.join([mark] * 12)}) RETURNING id")
    if postgres:
        c.executemany(sql, rows, returning=True)
        for entry in entries:
            entry.id = int(c.fetchone()[0])
            c.nextset()
    else:
        for entry, row in zip(entries, rows, strict=True):
            entry.id = int(c.execute(sql, row).fetchone()[0])
    _set_head(c.execute, mark, entries[-1].id or head_id, head)


def relink(execute: Execute, mark: str, removed: Sequence[int]) -> None:
    """Take entries out of the chain (those of a commit reported failed that happened
    after all, which its sender will make again) and link the ones after them anew."""
    if not removed:
        return
    _head(execute, mark, lock=mark == "%s")
    anchor_id, anchor = _anchor(execute)
    first = min(removed)
    execute(f"DELETE FROM audit WHERE id IN ({', '.join([mark] * len(removed))})",
            tuple(removed))
    before = execute(f"SELECT id, hash FROM audit WHERE id > {mark} AND id < {mark} "
                     "ORDER BY id DESC LIMIT 1", (anchor_id, first)).fetchone()
    last_id, head = (anchor_id, anchor) if before is None else (int(before[0]),
                                                                bytes(before[1]))
    for entry_id, *content in execute(f"SELECT id, {CONTENT} FROM audit WHERE id > {mark} "
                                      "ORDER BY id", (first,)).fetchall():
        digest = link(head, content)
        execute(f"UPDATE audit SET prev = {mark}, hash = {mark} WHERE id = {mark}",
                (head, digest, entry_id))
        last_id, head = int(entry_id), digest
    _set_head(execute, mark, last_id, head)


def _anchor(execute: Execute) -> tuple[int, bytes]:
    row = execute("SELECT anchor_id, anchor_hash FROM audit_chain WHERE id = 1").fetchone()
    return int(row[0]), bytes(row[1])


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``verify`` found: how many entries it checked, the head, and the first break."""

    checked: int
    anchor_id: int
    head_id: int
    head_hash: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None and self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "anchor_id": self.anchor_id,
                "head": {"id": self.head_id, "hash": self.head_hash},
                "broken_at": self.broken_at, "problem": self.problem}


def verify(execute: Execute, mark: str, expect: tuple[int, str] | None = None) -> Verdict:
    """Walk the chain from its anchor in id order and report the first entry that breaks
    it. Run it in one snapshot (a read transaction), so a prune or a write under way is
    seen whole or not at all. ``expect`` is a head kept elsewhere (id, hex hash): the
    entry of that id must still have that hash."""
    row = execute("SELECT head_id, head_hash, anchor_id, anchor_hash FROM audit_chain "
                  "WHERE id = 1").fetchone()
    head_id, head_hash, anchor_id, expected = (int(row[0]), bytes(row[1]), int(row[2]),
                                               bytes(row[3]))
    checked, last_id, after = 0, anchor_id, anchor_id
    kept_seen = expect is None

    def broken(entry_id: int | None, problem: str) -> Verdict:
        return Verdict(checked, anchor_id, head_id, head_hash.hex(), entry_id, problem)

    while True:
        rows = execute(f"SELECT id, {CONTENT}, prev, hash FROM audit WHERE id > {mark} "
                       f"ORDER BY id LIMIT {PAGE}", (after,)).fetchall()
        for entry_id, *content, prev, digest in rows:
            entry_id = int(entry_id)
            if prev is None or digest is None:
                return broken(entry_id, f"entry {entry_id} is not linked: it was written "
                                        "outside the chain")
            if bytes(prev) != expected:
                return broken(entry_id, f"entry {entry_id} does not follow entry "
                                        f"{last_id}: an entry between them was removed or "
                                        f"added, or entry {last_id} was changed")
            if link(bytes(prev), content) != bytes(digest):
                return broken(entry_id, f"entry {entry_id} was changed after it was written")
            if expect is not None and entry_id == expect[0]:
                if bytes(digest).hex() != expect[1]:
                    return broken(entry_id, f"entry {entry_id} is not the one whose hash "
                                            "was kept: the chain was rewritten from it or "
                                            "before it")
                kept_seen = True
            expected, last_id = bytes(digest), entry_id
            checked += 1
        if len(rows) < PAGE:
            break
        after = last_id
    if (last_id, expected) != (head_id, head_hash):
        return broken(last_id if last_id > head_id else None,
                      f"the chain's head is entry {head_id}, but the newest entry is "
                      f"{last_id}: entries were removed from its end, or the head was "
                      "changed")
    if expect is not None and not kept_seen:
        return broken(None, f"entry {expect[0]}, whose hash was kept, is "
                            f"{'pruned' if expect[0] <= anchor_id else 'not in the log'}")
    return Verdict(checked, anchor_id, head_id, head_hash.hex())


@dataclass(frozen=True, slots=True)
class Pruned:
    removed: int
    anchor_id: int
    anchor_hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"removed": self.removed, "anchor": {"id": self.anchor_id,
                                                   "hash": self.anchor_hash}}


class ChainBroken(StoreError):
    """Pruning would remove a part of the chain that does not verify (the evidence)."""


def pruned(result: Pruned, before: float, actor: Actor, now: float) -> AuditEntry:
    """The entry that records a prune: how many, through which id, the new anchor."""
    return AuditEntry("prune_audit", "audit", actor, now, None,
                      {"removed": result.removed, "through": result.anchor_id,
                       "before": before, "anchor": result.anchor_hash})


def prune(execute: Execute, mark: str, before: float) -> Pruned:
    """Remove the oldest entries written before ``before`` (the longest run of them from
    the anchor: an entry is not removed while an older one is kept), at most
    ``PRUNE_BATCH``, and make the hash of the last one removed the new anchor, in the
    caller's transaction. What it removes must verify first: a broken part is kept and
    ``ChainBroken`` raised. The caller records the prune itself as an entry (``pruned``),
    after it, in the same transaction."""
    _head(execute, mark, lock=mark == "%s")  # writers wait until the prune commits
    anchor_id, expected = _anchor(execute)
    row = execute(f"SELECT MIN(id) FROM audit WHERE id > {mark} AND time >= {mark}",
                  (anchor_id, before)).fetchone()
    young = None if row is None or row[0] is None else int(row[0])
    last_id, last_time, removed, after = anchor_id, None, 0, anchor_id
    while removed < PRUNE_BATCH:
        bound = f" AND id < {mark}" if young is not None else ""
        params = (after,) if young is None else (after, young)
        page = min(PAGE, PRUNE_BATCH - removed)
        rows = execute(f"SELECT id, {CONTENT}, prev, hash FROM audit WHERE id > {mark}"
                       f"{bound} ORDER BY id LIMIT {page}", params).fetchall()
        for entry_id, *content, prev, digest in rows:
            if (prev is None or digest is None or bytes(prev) != expected
                    or link(bytes(prev), content) != bytes(digest)):
                raise ChainBroken(f"entry {entry_id} does not verify; the entries from it "
                                  "are kept (run `twinsync audit verify`)")
            expected, last_id, last_time = bytes(digest), int(entry_id), content[0]
            removed += 1
        if len(rows) < page:
            break
        after = last_id
    if removed:
        execute(f"DELETE FROM audit WHERE id > {mark} AND id <= {mark}", (anchor_id, last_id))
        execute(f"UPDATE audit_chain SET anchor_id = {mark}, anchor_hash = {mark}, "
                f"anchor_time = {mark} WHERE id = 1", (last_id, expected, last_time))
    return Pruned(removed, last_id, expected.hex())


def expected_head(text: str) -> tuple[int, str]:
    """``<id>:<hex hash>``, as verify prints a head."""
    entry_id, _, digest = text.partition(":")
    if not entry_id.isdigit() or len(digest) != 64 or not all(
            c in "0123456789abcdef" for c in digest):
        raise InvalidInput("expect is <entry id>:<its 64-digit hex hash>", "bad_expect")
    return int(entry_id), digest
