"""The audit log's hash chain in SQLite and in PostgreSQL alike: every writer links its
entries to the head, two writers at once keep one chain, a changed, removed or inserted
entry is found by verify, and pruning keeps what is left verifiable."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from twinsync.store import audit_chain, open_store
from twinsync.store.audit import COMMAND, Actor, AuditEntry, AuditQuery
from twinsync.store.audit_chain import ChainBroken
from twinsync.store.postgres_rows import InDoubt
from twinsync.store.tokens import created, open_token_store
from twinsync.tokens import Role, new_token

from .conftest import raw

ADMIN = Actor("ops", "admin", "a0")


def entry(number: int, time: float | None = None) -> AuditEntry:
    return AuditEntry("update_element", f"element:E{number}", ADMIN,
                      1000.0 + number if time is None else time,
                      {"status": "planned"}, {"status": "installed", "n": number},
                      element_id=f"E{number}")


def ids(url: str) -> list[int]:
    with raw(url) as c:
        return [int(r[0]) for r in c.execute("SELECT id FROM audit ORDER BY id").fetchall()]


def test_entries_of_the_twin_and_of_the_tokens_form_one_chain(store_url: str) -> None:
    twin = open_store(store_url)
    tokens = open_token_store(store_url)
    try:
        assert tokens.verify_audit().ok and tokens.verify_audit().checked == 0
        twin.add_audit([entry(1), entry(2)])
        _, token = new_token("tablet", Role.VIEWER, now=1003.0)
        tokens.add(token, created(token, COMMAND, 1003.0))
        twin.add_audit([entry(4)])
        verdict = tokens.verify_audit()
        assert verdict.ok, verdict
        assert verdict.checked == 4 and verdict.head_id == max(ids(store_url))
        assert [e.operation for e in twin.audit(AuditQuery())] == [
            "update_element", "update_element", "create_token", "update_element"]
    finally:
        tokens.close()
        twin.close()


def test_two_writers_appending_at_once_keep_one_valid_chain(store_url: str) -> None:
    # The twin's store and two connections of tokens, each in a thread of its own,
    # append as fast as they can: each must link to the head the other left.
    twin = open_store(store_url)
    first, second = open_token_store(store_url), open_token_store(store_url)
    rounds, errors = 30, []
    start = threading.Barrier(3)

    def twin_writer() -> None:
        start.wait()
        for number in range(rounds):
            twin.add_audit([entry(number), entry(number + 1000)])

    def token_writer(tokens: Any, name: str) -> None:
        start.wait()
        for number in range(rounds):
            _, token = new_token(f"{name}-{number}", Role.VIEWER, now=2000.0 + number)
            tokens.add(token, created(token, ADMIN, 2000.0 + number))

    def run(target: Any, *args: Any) -> None:
        try:
            target(*args)
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(twin_writer,)),
               threading.Thread(target=run, args=(token_writer, first, "a")),
               threading.Thread(target=run, args=(token_writer, second, "b"))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        verdict = first.verify_audit()
        assert verdict.ok, verdict
        assert verdict.checked == 4 * rounds == len(ids(store_url))
    finally:
        first.close()
        second.close()
        twin.close()


@pytest.fixture
def chained(store_url: str) -> Iterator[tuple[str, Any]]:
    """A store whose log holds entries 1..6 (ids as written), and its tokens' store."""
    twin = open_store(store_url)
    twin.add_audit([entry(n) for n in range(1, 7)])
    twin.close()
    tokens = open_token_store(store_url)
    try:
        assert tokens.verify_audit().ok
        yield store_url, tokens
    finally:
        tokens.close()


def test_an_entry_changed_in_the_database_is_found_by_verify(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    third = ids(url)[2]
    with raw(url) as c:
        c.execute(f"UPDATE audit SET actor = 'someone else' WHERE id = {third}")
    verdict = tokens.verify_audit()
    assert not verdict.ok and verdict.broken_at == third
    assert verdict.problem == f"entry {third} was changed after it was written"


def test_an_entry_changed_with_its_hash_made_again_breaks_the_next_link(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    first, second, third = ids(url)[:3]
    with raw(url) as c:
        prev, = c.execute(f"SELECT prev FROM audit WHERE id = {second}").fetchone()
        c.execute(f"UPDATE audit SET after = {'?' if url.startswith('sqlite') else '%s'} "
                  f"WHERE id = {second}", (b'{"status":"removed"}',))
        content = c.execute(f"SELECT {audit_chain.CONTENT} FROM audit WHERE id = {second}"
                            ).fetchone()
        forged = audit_chain.link(bytes(prev), content)
        mark = "?" if url.startswith("sqlite") else "%s"
        c.execute(f"UPDATE audit SET hash = {mark} WHERE id = {second}", (forged,))
    verdict = tokens.verify_audit()
    assert verdict.broken_at == third
    assert verdict.problem == (f"entry {third} does not follow entry {second}: an entry "
                               f"between them was removed or added, or entry {second} "
                               "was changed")
    del first


def test_a_removed_entry_and_removed_newest_entries_are_found(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    every = ids(url)
    with raw(url) as c:
        c.execute(f"DELETE FROM audit WHERE id = {every[-1]}")
    verdict = tokens.verify_audit()
    assert not verdict.ok and verdict.broken_at is None
    assert f"the chain's head is entry {every[-1]}, but the newest entry is {every[-2]}" \
        in (verdict.problem or "")
    with raw(url) as c:
        c.execute(f"DELETE FROM audit WHERE id = {every[1]}")
    verdict = tokens.verify_audit()
    assert verdict.broken_at == every[2]
    assert verdict.problem is not None and "does not follow entry " \
        f"{every[0]}" in verdict.problem


def test_an_entry_added_outside_twinsync_is_found(chained: tuple[str, Any]) -> None:
    url, tokens = chained
    with raw(url) as c:
        c.execute("INSERT INTO audit (time, actor, role, operation, target, before, after) "
                  "VALUES (1.0, 'x', 'admin', 'update_element', 'element:X', 'null', 'null')")
    verdict = tokens.verify_audit()
    assert verdict.broken_at == max(ids(url))
    assert "is not linked" in (verdict.problem or "")


def test_a_chain_rewritten_from_an_entry_is_found_against_a_head_kept_elsewhere(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    kept = tokens.verify_audit()
    every = ids(url)
    mark = "?" if url.startswith("sqlite") else "%s"
    # Whoever can write the database changes entry 4 and links every entry after it anew,
    # head included: the chain alone verifies again.
    with raw(url) as c:
        c.execute(f"UPDATE audit SET actor = 'someone else' WHERE id = {every[3]}")
        head = bytes(c.execute(f"SELECT prev FROM audit WHERE id = {every[3]}").fetchone()[0])
        for entry_id in every[3:]:
            content = c.execute(f"SELECT {audit_chain.CONTENT} FROM audit WHERE id = "
                                f"{entry_id}").fetchone()
            head_new = audit_chain.link(head, content)
            c.execute(f"UPDATE audit SET prev = {mark}, hash = {mark} WHERE id = {mark}",
                      (head, head_new, entry_id))
            head = head_new
        c.execute(f"UPDATE audit_chain SET head_hash = {mark}", (head,))
    assert tokens.verify_audit().ok
    verdict = tokens.verify_audit(expect=(kept.head_id, kept.head_hash))
    assert verdict.broken_at == kept.head_id and "rewritten" in (verdict.problem or "")


def test_pruning_removes_the_oldest_entries_and_keeps_the_rest_verifiable(
        store_url: str) -> None:
    twin = open_store(store_url)
    tokens = open_token_store(store_url)
    try:
        # Old, old, new, then an old time written after a new one (a clock set back): the
        # run that goes is the oldest from the anchor, never an entry after a kept one.
        twin.add_audit([entry(1, 100.0), entry(2, 200.0), entry(3, 5000.0), entry(4, 300.0)])
        every = ids(store_url)
        result = tokens.prune_audit(1000.0, COMMAND, 6000.0)
        assert result.removed == 2 and result.anchor_id == every[1]
        assert ids(store_url)[:2] == every[2:]
        verdict = tokens.verify_audit()
        assert verdict.ok, verdict
        assert verdict.anchor_id == every[1] and verdict.checked == 3
        [note] = twin.audit(AuditQuery(after=every[-1]))
        assert note.operation == "prune_audit" and note.after["removed"] == 2
        assert note.after["anchor"] == result.anchor_hash
        # Nothing more is old enough: nothing goes, nothing is recorded.
        assert tokens.prune_audit(1000.0, COMMAND, 6001.0).removed == 0
        assert len(ids(store_url)) == 3
        # New writes link on from the head as before.
        twin.add_audit([entry(5)])
        assert tokens.verify_audit().ok
    finally:
        tokens.close()
        twin.close()


def test_pruning_refuses_to_remove_entries_that_do_not_verify(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    before = ids(url)
    with raw(url) as c:
        c.execute(f"UPDATE audit SET target = 'element:other' WHERE id = {before[1]}")
    with pytest.raises(ChainBroken, match=f"entry {before[1]} does not verify"):
        tokens.prune_audit(10_000.0, COMMAND, 10_000.0)
    assert ids(url) == before
    assert tokens.verify_audit().broken_at == before[1]


def test_a_log_written_before_the_chain_is_linked_when_the_store_opens(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    tokens.close()
    with raw(url) as c:  # the layout of an older twinsync
        c.execute("DROP TABLE audit_chain")
        c.execute("ALTER TABLE audit DROP COLUMN prev")
        c.execute("ALTER TABLE audit DROP COLUMN hash")
    twin = open_store(url)
    try:
        again = open_token_store(url)
        verdict = again.verify_audit()
        again.close()
        assert verdict.ok and verdict.checked == 6
        twin.add_audit([entry(7)])
    finally:
        twin.close()
    reopened = open_token_store(url)
    try:
        assert reopened.verify_audit().checked == 7
    finally:
        reopened.close()


def test_entries_taken_back_after_a_lost_commit_leave_the_chain_linked(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    every = ids(url)
    with raw(url) as c:
        if url.startswith("sqlite"):
            c.execute("BEGIN IMMEDIATE")
            audit_chain.relink(c.execute, "?", [every[1], every[3]])
            c.execute("COMMIT")
        else:
            with c.transaction():
                InDoubt(audit_ids=[every[1], every[3]]).take_back(c)
    assert ids(url) == [every[0], every[2], every[4], every[5]]
    verdict = tokens.verify_audit()
    assert verdict.ok and verdict.checked == 4 and verdict.head_id == every[5]


def test_a_long_prune_goes_in_batches_each_recorded_and_the_chain_holds(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_chain, "PRUNE_BATCH", 2)
    twin = open_store(store_url)
    tokens = open_token_store(store_url)
    try:
        twin.add_audit([entry(n, 100.0 + n) for n in range(5)] + [entry(9, 9000.0)])
        result = tokens.prune_audit(1000.0, COMMAND, 9500.0)
        assert result.removed == 5
        notes = [e.after for e in twin.audit(AuditQuery()) if e.operation == "prune_audit"]
        assert [n["removed"] for n in notes] == [2, 2, 1]
        assert notes[-1]["anchor"] == result.anchor_hash
        verdict = tokens.verify_audit()
        assert verdict.ok and verdict.checked == 4  # the young entry and three notes
    finally:
        tokens.close()
        twin.close()


def test_a_kept_entry_removed_and_the_chain_linked_anew_is_found(
        chained: tuple[str, Any]) -> None:
    url, tokens = chained
    every = ids(url)
    with raw(url) as c:
        mark = "?" if url.startswith("sqlite") else "%s"
        digest = bytes(c.execute(f"SELECT hash FROM audit WHERE id = {mark}",
                                 (every[2],)).fetchone()[0]).hex()
        # Whoever can write the database removes entry 3 and links the rest anew.
        if url.startswith("sqlite"):
            c.execute("BEGIN IMMEDIATE")
            audit_chain.relink(c.execute, mark, [every[2]])
            c.execute("COMMIT")
        else:
            with c.transaction():
                audit_chain.relink(c.execute, mark, [every[2]])
    assert tokens.verify_audit().ok
    verdict = tokens.verify_audit(expect=(every[2], digest))
    assert not verdict.ok
    assert verdict.problem == f"entry {every[2]}, whose hash was kept, is not in the log"
