"""How the SQLite store keeps a sealed segment's large fields: in parts.

A segment's readings, directory and summary come to 16 MB (100 sensors) to 25 MB (100,000
sensors) for a seal of 262,144 readings. SQLite has one writer, and written in one
transaction a seal held the write lock for 50 to 120 ms while every ingest commit waited for
it: 0.6 to 0.8 s of waiting per 2,000,000 readings at 100,000 sensors, 0.2 s at 100
(``twinsync bench ingest``, the write lock timed). So the seal writes each field in parts
of ``part_bytes``, each part in a transaction of its own, and an ingest commit waits at
most for one part. The parts are invisible until the segment's own row is inserted, in the
transaction that drops the journal rows the segment covers; parts left by a seal that
never got there (a crash, an error) belong to no segment and are deleted.

Segments written before parts existed (schema version 2) keep their fields inline in the
``segments`` row, marked ``part_bytes = 0``; they are read in place, never rewritten.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from .tiers import Segment, blob

#: Bytes per part: a commit that arrives during a seal waits for one part at most.
PART_BYTES = 1 << 20
#: The fields a segment keeps in parts, in the order a seal writes them.
FIELDS = ("data", "offsets", "summary")

SCHEMA = """
CREATE TABLE IF NOT EXISTS segment_parts (
    id INTEGER PRIMARY KEY,
    segment INTEGER NOT NULL,
    field TEXT NOT NULL,
    part INTEGER NOT NULL,
    bytes BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS segment_parts_key ON segment_parts (segment, field, part);
"""


def parts_of(segment: Segment, part_bytes: int) -> Iterator[tuple[str, int, memoryview]]:
    """(field, part number, bytes) of every part of a segment's large fields."""
    for field in FIELDS:
        whole = blob(getattr(segment, field))
        for part, start in enumerate(range(0, len(whole), part_bytes)):
            yield field, part, whole[start:start + part_bytes]


def next_segment_id(c: sqlite3.Connection) -> int:
    """The id the next segment gets. Only the sealing thread inserts segments."""
    (highest,) = c.execute("SELECT COALESCE(MAX(id), 0) FROM segments").fetchone()
    return int(highest) + 1


def drop_unfinished_parts(c: sqlite3.Connection) -> None:
    """Delete the parts of a seal that never inserted its segment's row."""
    c.execute("DELETE FROM segment_parts WHERE segment > (SELECT COALESCE(MAX(id), 0)"
              " FROM segments)")


def insert_part(c: sqlite3.Connection, segment_id: int, field: str, part: int,
                piece: memoryview) -> None:
    c.execute("INSERT INTO segment_parts (segment, field, part, bytes) VALUES (?,?,?,?)",
              (segment_id, field, part, piece))


def insert_segment(c: sqlite3.Connection, segment_id: int, segment: Segment,
                   part_bytes: int) -> None:
    """The segment's row. With ``part_bytes`` its fields are in parts already written;
    with 0 they go inline, in this one transaction."""
    inline = (blob(segment.summary), blob(segment.offsets), blob(segment.data))
    c.execute(
        "INSERT INTO segments (id, t_start, t_end, readings, span, summary, offsets, data,"
        " part_bytes, row_bytes) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (segment_id, segment.t_start, segment.t_end, len(segment.data), segment.span,
         *((b"", b"", b"") if part_bytes else inline), part_bytes,
         segment.data.dtype.itemsize))


class SegmentField:
    """The bytes of one field of one segment, read by range or whole, wherever kept."""

    def __init__(self, c: sqlite3.Connection, segment_id: int, part_bytes: int,
                 field: str) -> None:
        if field not in FIELDS:
            raise ValueError(f"not a segment field: {field!r}")
        self._c = c
        self._segment = segment_id
        self._part_bytes = part_bytes
        self._field = field

    def read(self, offset: int, length: int) -> bytes:
        if self._part_bytes == 0:
            with self._c.blobopen("segments", self._field, self._segment,
                                  readonly=True) as inline:
                inline.seek(offset)
                return inline.read(length)
        pieces = []
        while length > 0:  # a range may straddle parts
            part, within = divmod(offset, self._part_bytes)
            take = min(length, self._part_bytes - within)
            found = self._c.execute(
                "SELECT id FROM segment_parts WHERE segment = ? AND field = ? AND part = ?",
                (self._segment, self._field, part)).fetchone()
            if found is None:  # past the field's end: as short as a blob's read
                break
            (rowid,) = found
            with self._c.blobopen("segment_parts", "bytes", rowid, readonly=True) as stored:
                stored.seek(within)
                pieces.append(stored.read(take))
            offset += take
            length -= take
        return b"".join(pieces)

    def whole(self) -> bytes:
        if self._part_bytes == 0:
            (inline,) = self._c.execute(
                f"SELECT {self._field} FROM segments WHERE id = ?",  # a name from FIELDS
                (self._segment,)).fetchone()
            return bytes(inline)
        return b"".join(piece for (piece,) in self._c.execute(
            "SELECT bytes FROM segment_parts WHERE segment = ? AND field = ? ORDER BY part",
            (self._segment, self._field)))
