"""Dead letters stay bounded in every tiered store: one letter's size, how many and how
old, and how much one page of them weighs, whatever was sent or stored before."""

from __future__ import annotations

import hashlib
import time

import orjson
import pytest
from tests.store.conftest import batch_of
from tests.store.test_problems import raw_sql

from twinsync.errors import InvalidInput
from twinsync.model import Element, PropertyValue
from twinsync.pipeline import DeadLetter
from twinsync.store import open_store
from twinsync.store.dead_letters import DeadLetterLimits, cut, limits_of, summary_of


def _letter(detail: str, payload: object = None, age: float = 0.0) -> DeadLetter:
    return DeadLetter(time.time() - age, "test", "bad_reading", detail, payload)


def test_no_more_than_the_newest_rows_are_kept(store_url: str) -> None:
    store = open_store(store_url + "&dead_letter_rows=10")
    try:
        for n in range(50):
            store.add_dead_letters([_letter(f"n{n}")])
        kept = store.dead_letters(limit=100)
        assert [d.detail for d in kept] == [f"n{n}" for n in range(40, 50)]
        assert store.counts()["dead_letters"] == 10
    finally:
        store.close()


def test_letters_older_than_the_retention_go_at_the_first_insert_after_opening(
        store_url: str) -> None:
    url = store_url + "&dead_letter_days=1"
    open_store(url).close()
    # Written by a store that kept them longer (or before retention existed).
    for age in (3 * 86_400, 2 * 86_400, 3600):
        raw_sql(store_url)(
            "INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
            "VALUES (%s, 'test', 'old', %s, %s)", (time.time() - age, f"{age}", b"{}"))
    store = open_store(url)
    try:
        assert len(store.dead_letters()) == 3
        store.add_dead_letters([_letter("newer")])
        assert [d.detail for d in store.dead_letters()] == ["3600", "newer"]
    finally:
        store.close()


def test_letters_stored_before_the_bounds_are_bounded_when_the_store_opens(
        store_url: str) -> None:
    store = open_store(store_url)
    store.close()
    body = b'{"readings": "' + b"x" * 2_000_000 + b'"}'
    damage = raw_sql(store_url)
    damage("INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
           "VALUES (%s, %s, 'unknown_sensor', %s, %s)",
           (time.time(), "i" * 100_000, "d" * 100_000, body))
    damage("DELETE FROM meta WHERE key = 'dead_letters_bounded'", ())
    store = open_store(store_url)
    try:
        (letter,) = store.dead_letters()
        assert letter.payload == orjson.loads(summary_of(body, 64 * 1024))
        assert letter.payload["sha256"] == hashlib.sha256(body).hexdigest()
        assert letter.source.endswith("[cut: 100000 characters]")
        assert len(letter.detail) == 1024
    finally:
        store.close()


def test_a_page_of_letters_stays_under_its_bytes_and_pages_on_to_every_letter(
        store_url: str) -> None:
    store = open_store(store_url + "&dead_letter_page_bytes=200000")
    try:
        letters = [_letter(f"n{n}", {"pad": "p" * 30_000}) for n in range(40)]
        store.add_dead_letters(letters)
        pages, after = [], 0
        while page := store.dead_letters(after=after, limit=100):
            pages.append(page)
            after = page[-1].id or 0
        assert [len(p) for p in pages] == [6] * 6 + [4]
        assert [d.id for p in pages for d in p] == [d.id for d in letters]
        # A letter heavier than a whole page still comes, alone.
        big = _letter("big", {"pad": "q" * 60_000})
        store.add_dead_letters([big])
        assert [d.id for d in store.dead_letters(after=after, limit=100)] == [big.id]
    finally:
        store.close()


def test_a_payload_at_the_bound_is_kept_whole_and_one_byte_more_is_summarised() -> None:
    limits = DeadLetterLimits(payload_bytes=100)
    from twinsync.store.dead_letters import bounded_payload

    whole = {"s": "a" * 92}  # {"s":"…"} is 100 bytes
    assert len(orjson.dumps(whole)) == 100
    assert orjson.loads(bounded_payload(whole, limits.payload_bytes)) == whole
    over = orjson.loads(bounded_payload({"s": "a" * 93}, limits.payload_bytes))
    assert over["truncated"] is True and over["size"] == 101
    assert len(summary_of(b"\x00raw:" + b"\xff" * 10_000, 300)) <= 300


def test_cut_says_how_long_the_text_was() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("a" * 40, 30) == "aaaaaaaa… [cut: 40 characters]"
    assert len(cut("a" * 40, 30)) == 30 and cut(cut("a" * 40, 30), 30) == cut("a" * 40, 30)


@pytest.mark.parametrize("option", ["dead_letter_rows=0", "dead_letter_days=x",
                                    "dead_letter_payload_bytes=-1"])
def test_a_bad_bound_in_the_url_is_refused(option: str) -> None:
    key, value = option.split("=")
    with pytest.raises(InvalidInput):
        limits_of({key: value})


def test_a_payload_json_cannot_hold_as_it_is_is_still_kept(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.commit(batch_of([0], [1.0], [2.0]), [_letter("big", {"seq": 2**70})])
        assert store.counts()["readings"] == 1  # the batch it came with is not lost
        (letter,) = store.dead_letters()
        # Stored with every digit; read back as JSON readers do, as a float.
        assert letter.payload == {"seq": pytest.approx(2**70)}
    finally:
        store.close()


def test_a_twin_body_json_cannot_hold_is_refused_before_anything_is_written(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        with pytest.raises(InvalidInput, match="cannot be stored"):
            store.save_changes([], elements=[Element("e", "IfcSlab"),
                                             Element("f", "IfcSlab", properties={
                                                 "n": PropertyValue(2**70)})])
        assert store.counts()["elements"] == 0
    finally:
        store.close()


def test_a_store_reopened_with_smaller_bounds_applies_them_to_what_it_holds(
        store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.add_dead_letters([_letter("wide", {"pad": "w" * 5_000})])
    finally:
        store.close()
    store = open_store(store_url + "&dead_letter_payload_bytes=1000")
    try:
        (letter,) = store.dead_letters()
        assert letter.payload["truncated"] is True and letter.payload["size"] > 5_000
    finally:
        store.close()
    # Opened with the wide bounds again: what was rewritten stays summarised (reads alone
    # would bound it only as it is shown).
    store = open_store(store_url)
    try:
        (letter,) = store.dead_letters()
        assert letter.payload["truncated"] is True
    finally:
        store.close()
