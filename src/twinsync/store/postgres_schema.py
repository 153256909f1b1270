"""The PostgreSQL store's URL options, tables and time partitions.

Everything lives in one schema (``?schema=name``, default ``twinsync``), so several twins,
or the tests, can share a database without seeing each other. The tables mirror the
SQLite store's; the sealed ``segments`` are partitioned by month of their newest reading
(``t_end``), so old history is removed by detaching or dropping whole partitions
(``drop_partitions_before``) instead of deleting rows.

Why ``t_end`` and not ``t_start``: a segment whose partition lies wholly before a cut-off
holds only readings before it, so dropping that partition never removes a newer reading,
and one late reading from long ago does not pin a fresh segment into an old month.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ..errors import InvalidInput, StoreError
from . import audit_chain, checkpoint, event_keys
from .audit import POSTGRES_SCHEMA as POSTGRES_AUDIT_SCHEMA
from .dead_letters import OPTIONS as DEAD_LETTER_OPTIONS
from .plan_rows import POSTGRES_SCHEMA as POSTGRES_PLAN_SCHEMA
from .problems import LoadProblems
from .site_event_rows import POSTGRES_SCHEMA as POSTGRES_SITE_EVENTS_SCHEMA
from .upgrades import widen_journal

Connection = psycopg.Connection[tuple[Any, ...]]

SCHEMA_VERSION = "3"
#: Versions this twinsync upgrades in place. 1 stored readings without an anomaly score;
#: 1 and 2 had no index of events by key (``event_keys``).
UPGRADES_FROM = ("1", "2")
DEFAULT_SCHEMA = "twinsync"
#: Options of the URL that are ours; every other one is handed to libpq.
OWN_OPTIONS = ("schema", "seal_rows", *DEAD_LETTER_OPTIONS)

# Large values are stored uncompressed out of line (STORAGE EXTERNAL): packed floats do
# not compress, compressing them only costs time on every write, and ``substring`` of an
# uncompressed value reads just the TOAST chunks it covers, which is how a history read
# fetches one sensor's run out of a segment.
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS elements (id text PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (row bigint PRIMARY KEY, id text UNIQUE NOT NULL,
                                    body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bindings (sensor_id text PRIMARY KEY, body bytea NOT NULL);
CREATE TABLE IF NOT EXISTS sources (key serial PRIMARY KEY, name text UNIQUE NOT NULL);
-- Committed ingest batches not yet sealed: one row per batch, the readings packed.
CREATE TABLE IF NOT EXISTS journal (id bigserial PRIMARY KEY, rows bytea NOT NULL);
ALTER TABLE journal ALTER COLUMN rows SET STORAGE EXTERNAL;
-- Sealed history, one row per seal; offsets[s]..offsets[s+1] are sensor s's rows of data,
-- each row_bytes wide (60 for the layout before anomaly scores, read in place; 64 since).
CREATE TABLE IF NOT EXISTS segments (
    id bigserial NOT NULL,
    t_start double precision NOT NULL,
    t_end double precision NOT NULL,
    readings bigint NOT NULL,
    span bigint NOT NULL,
    summary bytea NOT NULL,
    offsets bytea NOT NULL,
    data bytea NOT NULL,
    row_bytes bigint NOT NULL DEFAULT 60,
    PRIMARY KEY (id, t_end)
) PARTITION BY RANGE (t_end);
-- A schema of version 1 has no row_bytes: its segments are of the 60-byte layout. With a
-- constant default this is a change of the catalog only, whatever the table holds.
ALTER TABLE segments ADD COLUMN IF NOT EXISTS row_bytes bigint NOT NULL DEFAULT 60;
ALTER TABLE segments ALTER COLUMN summary SET STORAGE EXTERNAL;
ALTER TABLE segments ALTER COLUMN offsets SET STORAGE EXTERNAL;
ALTER TABLE segments ALTER COLUMN data SET STORAGE EXTERNAL;
-- Times outside any month a datetime can name (or not finite) land here.
CREATE TABLE IF NOT EXISTS segments_other PARTITION OF segments DEFAULT;
CREATE TABLE IF NOT EXISTS events (
    seq bigserial PRIMARY KEY,
    kind text NOT NULL,
    time double precision NOT NULL,
    element_id text,
    source text NOT NULL,
    data bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS events_element ON events (element_id, seq);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    id bigserial PRIMARY KEY,
    received_at double precision NOT NULL,
    source text NOT NULL,
    reason text NOT NULL,
    detail text NOT NULL,
    payload bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters (reason, id);
-- State kept in memory and saved now and then (the health table): one blob per name.
CREATE TABLE IF NOT EXISTS snapshots (name text PRIMARY KEY, body bytea NOT NULL);
ALTER TABLE snapshots ALTER COLUMN body SET STORAGE EXTERNAL;
-- Running totals, each added to in the transaction of what it counts (store/totals.py).
CREATE TABLE IF NOT EXISTS totals (name text PRIMARY KEY, value bigint NOT NULL);
"""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a store lives: what libpq connects to, the schema, and our options."""

    conninfo: str
    schema: str
    seal_rows: int | None
    options: dict[str, str]
    """Every option of ours, as given."""


def target_of(url: str, seal_rows: int | None = None) -> Target:
    """``postgresql://user@host:port/db?schema=name&seal_rows=n&sslmode=…`` split into
    libpq's URL (our options removed) and ours."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise InvalidInput(f"not a PostgreSQL URL: {url!r}", "bad_store_url")
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in OWN_OPTIONS}
    schema = ours.get("schema", DEFAULT_SCHEMA)
    if not _IDENTIFIER.fullmatch(schema):
        raise InvalidInput(f"bad schema name {schema!r}: letters, digits and _ only",
                           "bad_store_url")
    if "seal_rows" in ours:
        try:
            seal_rows = int(ours["seal_rows"])
        except ValueError as exc:
            raise InvalidInput(f"bad seal_rows {ours['seal_rows']!r}", "bad_store_url") from exc
    rest = urlencode([(k, v) for k, v in query if k not in OWN_OPTIONS])
    return Target(urlunsplit(parts._replace(query=rest)), schema, seal_rows, ours)


def redacted(url: str) -> str:
    """A URL fit for an error message or a log: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(
        f":{parts.password}@", ":***@", 1)))


def lock_key(schema: str) -> int:
    """The advisory lock that admits one writing store per schema (a stable 63-bit key)."""
    import hashlib

    digest = hashlib.blake2b(f"twinsync:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def create(connection: Connection, schema: str, problems: LoadProblems) -> None:
    """Create the schema's tables if missing and check its version, in one transaction."""
    with connection.transaction():
        # Two processes creating the same schema at once would collide on the catalog.
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(schema) ^ 1,))
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            sql.Identifier(schema)))
        connection.execute(TABLES)
        connection.execute(POSTGRES_AUDIT_SCHEMA)
        connection.execute(audit_chain.POSTGRES_CHAIN)
        audit_chain.prepare(connection.execute, "%s")
        connection.execute(POSTGRES_PLAN_SCHEMA)
        connection.execute(POSTGRES_SITE_EVENTS_SCHEMA)
        connection.execute(event_keys.POSTGRES_SCHEMA)
        new = connection.execute("INSERT INTO meta VALUES ('schema_version', %s) "
                                 "ON CONFLICT (key) DO NOTHING RETURNING key",
                                 (SCHEMA_VERSION,)).fetchone() is not None
        if new:  # nothing learned yet: every batch to come can be replayed
            checkpoint.set_mark(connection.execute, "%s", checkpoint.STATE_POSITION, 0)
        row = connection.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and row[0] in UPGRADES_FROM:
            if row[0] == "1":
                # Segments were marked by the ALTER above; the journal does not say its
                # width.
                widen_journal(connection.execute, "%s")
            event_keys.fill(connection.execute, "%s", problems)
            connection.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'",
                               (SCHEMA_VERSION,))
            row = (SCHEMA_VERSION,)
    if row is None or row[0] != SCHEMA_VERSION:
        raise StoreError(f"store schema {schema!r} has version {row and row[0]!r}; "
                         f"this twinsync reads version {SCHEMA_VERSION}")


def month_of(t_end: float) -> tuple[str, float, float] | None:
    """The partition holding a segment whose newest reading is at ``t_end``: its name
    and [from, to) bounds in epoch seconds; None for the default partition."""
    try:
        moment = datetime.fromtimestamp(t_end, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    following = (datetime(moment.year + 1, 1, 1, tzinfo=UTC) if moment.month == 12
                 else datetime(moment.year, moment.month + 1, 1, tzinfo=UTC))
    if moment.year < 1 or following.year > 9999:
        return None
    return (f"segments_y{moment.year:04d}m{moment.month:02d}", first.timestamp(),
            following.timestamp())


def ensure_partition(connection: Connection, schema: str,
                     t_end: float, known: set[str]) -> None:
    """Create the month's partition for a segment ending at ``t_end`` if it is missing.

    Committed on its own, before the seal's transaction: creating a partition locks the
    parent table exclusively, and a seal must never hold that lock while it waits for
    readers (they list segments under the hot-rows lock the seal's commit needs).
    """
    month = month_of(t_end)
    if month is None or month[0] in known:
        return
    name, lower, upper = month
    try:
        with connection.transaction():
            exists = connection.execute(
                "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relname = %s", (schema, name)).fetchone()
            if exists is None:
                # A default partition holding rows of this month would make the CREATE fail;
                # only non-finite or out-of-range times go there, never a month's.
                connection.execute(sql.SQL(
                    "CREATE TABLE {} PARTITION OF segments FOR VALUES FROM ({}) TO ({})"
                ).format(sql.Identifier(name), sql.Literal(lower), sql.Literal(upper)))
    except psycopg.Error as exc:
        raise StoreError(f"cannot create partition {name}: {exc}") from exc
    known.add(name)


def drop_partitions_before(connection: Connection,
                           schema: str, cutoff: float) -> list[str]:
    """Drop the monthly partitions whose every reading is older than ``cutoff``."""
    dropped: list[str] = []
    with connection.transaction():
        names: list[str] = [name for (name,) in connection.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n "
            "ON n.oid = p.relnamespace WHERE n.nspname = %s AND p.relname = 'segments'",
            (schema,))]
        for name in sorted(names):
            match = re.fullmatch(r"segments_y(\d{4})m(\d{2})", name)
            if match is None:
                continue
            month = month_of(datetime(int(match[1]), int(match[2]), 1,
                                      tzinfo=UTC).timestamp())
            if month is not None and month[2] <= cutoff:
                connection.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                dropped.append(name)
    return dropped
