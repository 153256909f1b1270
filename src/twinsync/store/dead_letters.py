"""How every store keeps dead letters bounded: what one letter may take, how long letters
are kept, and how much one page of them may weigh.

A dead letter keeps what could not be used, with the reason, so nothing is lost without a
word; but the input that fails is often the largest (a 50 MB body, a 20 MB id), and kept
whole it would fill the disk and make every read of the letters huge. So:

- **One letter.** A payload whose stored form is up to ``payload_bytes`` (64 KiB) is kept
  whole; a larger one is kept as ``{"truncated": true, "size": N, "sha256": "…",
  "head": "<its first payload_bytes, as text>"}`` — enough to recognise it and to match
  it against the original. ``source``, ``reason`` and ``detail`` are cut to ``text_chars``
  (1,024) characters, the cut said at the end (``… [cut: 20971520 characters]``).
- **Retention.** Letters older than ``max_age_days`` (30) and all but the newest
  ``max_rows`` (1,000,000) are deleted by the store, in the transaction of an insert, once
  every ``prune_every`` letters (and at the first insert after opening): cheap, because
  both deletes walk the primary key from the oldest id. Age is taken in id order: the
  walk stops at the first letter still young.
- **Reads.** A page holds at most ``limit`` letters and at most ``page_bytes`` (4 MiB) of
  stored text and payload (always at least one letter); a letter stored before these
  bounds existed is bounded when it is read.

Each bound is an option of the store's URL: ``dead_letter_payload_bytes``,
``dead_letter_text_chars``, ``dead_letter_days``, ``dead_letter_rows``,
``dead_letter_page_bytes`` (e.g. ``sqlite:///twin.sqlite?dead_letter_days=7``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import InvalidInput
from ..pipeline import DeadLetter
from .rows import RAW, payload_bytes, payload_value

#: The URL option of each bound, and the field of ``DeadLetterLimits`` it sets.
OPTIONS = {
    "dead_letter_payload_bytes": "payload_bytes",
    "dead_letter_text_chars": "text_chars",
    "dead_letter_days": "max_age_days",
    "dead_letter_rows": "max_rows",
    "dead_letter_page_bytes": "page_bytes",
}
#: Letters inserted between two retention passes, at most (fewer with a small ``max_rows``).
PRUNE_EVERY = 1000


@dataclass(frozen=True, slots=True)
class DeadLetterLimits:
    payload_bytes: int = 64 * 1024
    text_chars: int = 1024
    max_age_days: float = 30.0
    max_rows: int = 1_000_000
    page_bytes: int = 4 * 1024 * 1024

    @property
    def prune_every(self) -> int:
        # A tenth of the row bound: the count never overshoots it by more than that.
        return max(1, min(PRUNE_EVERY, self.max_rows // 10))

    @property
    def max_age_seconds(self) -> float:
        return self.max_age_days * 86_400.0


def limits_of(options: Mapping[str, str]) -> DeadLetterLimits:
    """The bounds a store's URL options ask for; the defaults for the rest."""
    chosen: dict[str, float | int] = {}
    for option, field in OPTIONS.items():
        if option not in options:
            continue
        text = options[option]
        try:
            number = float(text) if field == "max_age_days" else int(text)
        except ValueError as exc:
            raise InvalidInput(f"bad {option} {text!r}: a number", "bad_store_url") from exc
        if not number > 0:
            raise InvalidInput(f"bad {option} {text!r}: must be positive", "bad_store_url")
        chosen[field] = number
    return DeadLetterLimits(**chosen)  # type: ignore[arg-type]


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, saying how long it was if it was cut (so
    a text cut once is never cut again)."""
    if len(text) <= limit:
        return text
    said = f"… [cut: {len(text)} characters]"
    return text[:max(limit - len(said), 0)] + said


def summary_of(stored: bytes, limit: int) -> bytes:
    """A stored payload over ``limit`` bytes as what is kept of it instead: its size, its
    SHA-256 and as much of its head, as text, as fits in ``limit`` bytes."""
    raw = stored.startswith(RAW)
    body = stored[len(RAW):] if raw else stored
    summary: dict[str, object] = {"truncated": True, "size": len(body),
                                  "sha256": hashlib.sha256(body).hexdigest()}
    if raw:
        summary["encoding"] = "bytes"
    text = body[:limit].decode("utf-8", "backslashreplace")
    keep = limit - len(orjson.dumps(summary)) - 16
    while True:  # escaping may lengthen the head: shorten it until the whole fits
        dumped = orjson.dumps({**summary, "head": text[:max(keep, 0)]})
        if len(dumped) <= limit or keep <= 0:
            return dumped
        keep -= len(dumped) - limit


def within(stored: bytes, limit: int) -> bytes:
    """A stored payload as kept under ``limit``: itself, or its summary. The limit is on
    the payload's own bytes; the mark of raw bytes does not count."""
    size = len(stored) - (len(RAW) if stored.startswith(RAW) else 0)
    return stored if size <= limit else summary_of(stored, limit)


def bounded_payload(payload: object, limit: int) -> bytes:
    return within(payload_bytes(payload), limit)


def stored_row(letter: DeadLetter, limits: DeadLetterLimits
               ) -> tuple[float, str, str, str, bytes]:
    """(received_at, source, reason, detail, payload) of a letter as a store keeps it."""
    return (letter.received_at, cut(str(letter.source), limits.text_chars),
            cut(str(letter.reason), limits.text_chars),
            cut(str(letter.detail), limits.text_chars),
            bounded_payload(letter.payload, limits.payload_bytes))


def page_of(records: Iterable[tuple[int, float, str, str, str, bytes]],
            limits: DeadLetterLimits) -> list[DeadLetter]:
    """Letters from stored rows, oldest first, until the page's bytes are spent.

    The rows are re-bounded as they are read: a store written before the bounds existed
    may hold a letter of any size."""
    page: list[DeadLetter] = []
    spent = 0
    for key, received_at, source, reason, detail, payload in records:
        stored = within(bytes(payload), limits.payload_bytes)
        texts = [cut(t, limits.text_chars) for t in (source, reason, detail)]
        weight = len(stored) + sum(len(t) for t in texts)
        if page and spent + weight > limits.page_bytes:
            break
        spent += weight
        try:
            value = payload_value(stored)
        except orjson.JSONDecodeError:
            # A damaged row is still shown, as the bytes it holds.
            value = stored
        page.append(DeadLetter(received_at, texts[0], texts[1], texts[2], value, id=key))
    return page


#: ``execute(query, params)`` of a connection (sqlite3's or psycopg's), and its placeholder.
Execute = Callable[[str, Any], Any]


def prune(execute: Execute, mark: str, limits: DeadLetterLimits, now: float) -> None:
    """Delete letters past the age and count bounds, walking the ids from the oldest.

    Ids come from a sequence: dense but for inserts rolled back, so the count bound may
    keep a few letters fewer than ``max_rows``, never more (plus at most ``prune_every``
    between two passes)."""
    young = execute(f"SELECT id FROM dead_letters WHERE received_at >= {mark} "
                    "ORDER BY id LIMIT 1", (now - limits.max_age_seconds,)).fetchone()
    if young is None:
        execute("DELETE FROM dead_letters", ())
        return
    newest = execute("SELECT MAX(id) FROM dead_letters", ()).fetchone()[0]
    keep_from = max(int(young[0]), int(newest) - limits.max_rows + 1)
    execute(f"DELETE FROM dead_letters WHERE id < {mark}", (keep_from,))


def bound_stored_letters(execute: Execute, mark: str, limits: DeadLetterLimits) -> int:
    """Rewrite letters stored before the bounds existed, or under larger ones, within
    them, one at a time; returns how many (see ``open_letters``)."""
    over = [key for (key,) in execute(
        f"SELECT id FROM dead_letters WHERE length(payload) > {mark} OR length(source) > {mark}"
        f" OR length(reason) > {mark} OR length(detail) > {mark}",
        (limits.payload_bytes, *[limits.text_chars] * 3)).fetchall()]
    for key in over:
        source, reason, detail, payload = execute(
            f"SELECT source, reason, detail, payload FROM dead_letters WHERE id = {mark}",
            (key,)).fetchone()
        stored = within(bytes(payload), limits.payload_bytes)
        execute(f"UPDATE dead_letters SET source = {mark}, reason = {mark}, detail = {mark},"
                f" payload = {mark} WHERE id = {mark}",
                (*(cut(t, limits.text_chars) for t in (source, reason, detail)), stored, key))
    return len(over)


def page_query(mark: str, after: int, reason: str | None, limit: int,
               limits: DeadLetterLimits) -> tuple[str, list[object]]:
    """``Store.dead_letters``: letters after an id, oldest first, at most ``limit`` and, by
    their stored lengths, at most ``page_bytes`` (the first always). The lengths are
    summed over ids and lengths only, so no payload is read that the page does not keep."""
    where = f"id > {mark}" + ("" if reason is None else f" AND reason = {mark}")
    params: list[object] = [after] + ([] if reason is None else [reason])
    weight = "length(payload) + length(source) + length(reason) + length(detail)"
    query = (
        f"WITH listed AS (SELECT id, {weight} AS own FROM dead_letters WHERE {where} "
        f"ORDER BY id LIMIT {mark}), "
        "page AS (SELECT id, own, SUM(own) OVER (ORDER BY id) AS spent FROM listed) "
        "SELECT d.id, d.received_at, d.source, d.reason, d.detail, d.payload "
        f"FROM dead_letters d JOIN page ON d.id = page.id WHERE page.spent - page.own = 0 "
        f"OR page.spent <= {mark} ORDER BY d.id")
    return query, [*params, limit, limits.page_bytes]


def set_aside(execute: Execute, mark: str, limits: DeadLetterLimits,
              unreadable: Iterable[tuple[int, bytes]]) -> None:
    """Journal rows that are not whole readings become dead letters (their bytes kept as
    far as the bounds allow) and leave the journal, in the caller's transaction: the
    store opens, and the bytes stay findable."""
    for journal_id, packed in unreadable:
        letter = DeadLetter(time.time(), "store", "corrupt_journal_row",
                            f"journal row {journal_id}: {len(packed)} bytes are not whole "
                            "readings", packed)
        execute("INSERT INTO dead_letters (received_at, source, reason, detail, payload) "
                f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})", stored_row(letter, limits))
        execute(f"DELETE FROM journal WHERE id = {mark}", (journal_id,))


def open_letters(execute: Execute, mark: str, limits: DeadLetterLimits,
                 unreadable: Iterable[tuple[int, bytes]]) -> None:
    """What a store does to its dead letters when it opens, in the caller's transaction:
    unreadable journal rows set aside as letters, and the stored letters brought within
    the bounds whenever the bounds differ from those they were last brought within (a
    store opened with smaller bounds applies them to what it holds)."""
    set_aside(execute, mark, limits, unreadable)
    bounds = f"{limits.payload_bytes}/{limits.text_chars}"
    last = execute(f"SELECT value FROM meta WHERE key = {mark}", (_BOUNDED_KEY,)).fetchone()
    if last is None or last[0] != bounds:
        bound_stored_letters(execute, mark, limits)
        execute(f"DELETE FROM meta WHERE key = {mark}", (_BOUNDED_KEY,))
        execute(f"INSERT INTO meta VALUES ({mark}, {mark})", (_BOUNDED_KEY, bounds))


_BOUNDED_KEY = "dead_letters_bounded"


class PruneCountdown:
    """When to run the retention pass: at the first insert after opening, then every
    ``prune_every`` letters."""

    def __init__(self, limits: DeadLetterLimits) -> None:
        self.every = limits.prune_every
        self.left = 0

    def due(self, inserted: int) -> bool:
        self.left -= inserted
        if self.left > 0:
            return False
        self.left = self.every
        return True
