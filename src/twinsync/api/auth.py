"""Who is asking: a token or a session cookie → an identity, checked against a cache.

The cache holds every token's and session's digest in memory, so checking a request is
a SHA-256 and a dictionary lookup (docs/SECURITY.md has the measured cost). A digest not
in it is looked up in the store (one indexed read: a token created by ``twinsync token
create`` in another process works at once); the whole cache is read again when it is
older than ``RELOAD_SECONDS`` (a token revoked in another process stops working within
that time; one revoked through this process's API stops at once).

A token the store does not know either costs no query the next time: its digest is kept
for ``UNKNOWN_SECONDS`` among at most ``UNKNOWN_KEPT`` (a secret is random, so a digest
unknown now never becomes a token later). Each client address may have
``LOOKUPS_PER_SECOND`` lookups of unknown tokens (bursts of twice that); past it a token
not in the cache is refused without a query, so a stream of made-up tokens cannot make
every request a store query.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Forbidden, NotFound, StoreError
from ..store.audit import SYSTEM, Actor
from ..store.tokens import TokenStore, created, password_changed, revoked
from ..tokens import (
    PREFIX,
    Kind,
    Role,
    TokenRecord,
    digest,
    hash_password,
    new_session,
    new_token,
    new_user,
)
from .rates import Buckets

log = logging.getLogger(__name__)
RELOAD_SECONDS = 5.0
#: Password checks running at once (each takes 64 MiB for its moment).
PASSWORD_CHECKS = 2
#: Digests of unknown tokens remembered (32 bytes and a time each: about 2 MB at most),
#: and for how long.
UNKNOWN_KEPT = 10_000
UNKNOWN_SECONDS = 60.0
#: Store lookups of unknown tokens a second, per client address.
LOOKUPS_PER_SECOND = 10.0


@functools.lru_cache(maxsize=1)
def _decoy() -> str:
    """A hash to verify against for a name that does not exist, so it takes as long."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(secrets.token_urlsafe(16))
SESSION_COOKIE = "twinsync_session"
CSRF_COOKIE = "twinsync_csrf"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one request: its token (or session) record and how it came."""

    record: TokenRecord
    secret: str
    by_cookie: bool

    @property
    def role(self) -> Role:
        return self.record.role

    @property
    def name(self) -> str:
        return self.record.name


class Authenticator:
    """Tokens and sessions of one store, cached; creates and revokes them too."""

    def __init__(self, store: TokenStore, clock: Callable[[], float] = time.time, *,
                 unknown_kept: int = UNKNOWN_KEPT,
                 lookups_per_second: float = LOOKUPS_PER_SECOND) -> None:
        self.store = store
        self.clock = clock
        self._by_digest: dict[bytes, TokenRecord] = {}
        # digest → when to forget it (monotonic); in the order they were refused.
        self._unknown: dict[bytes, float] = {}
        self._unknown_kept = unknown_kept
        self._lookups = Buckets(lookups_per_second, 2.0 * lookups_per_second)
        self._loaded_at = -float("inf")
        self._lock = asyncio.Lock()
        self._verifying = asyncio.Semaphore(PASSWORD_CHECKS)

    def load(self) -> None:
        """Read every record from the store (blocking: at start, or in a thread)."""
        records = self.store.records()
        self._by_digest = {r.digest: r for r in records}
        self._loaded_at = time.monotonic()

    async def _fresh(self) -> None:
        """Read the cache again if it is older than ``RELOAD_SECONDS``."""
        if time.monotonic() - self._loaded_at >= RELOAD_SECONDS:
            await self._reload()

    async def _reload(self) -> None:
        async with self._lock:
            if time.monotonic() - self._loaded_at >= RELOAD_SECONDS:
                try:
                    await asyncio.to_thread(self.load)
                except StoreError as exc:
                    # The tokens known stay good meanwhile; the next try is a period away.
                    log.warning("tokens not reloaded: %s", exc)
                    self._loaded_at = time.monotonic()

    async def identify(self, secret: str, *, by_cookie: bool = False,
                       client: str = "") -> Identity | None:
        """The identity of a presented secret, or None if it is unknown, expired or
        revoked. ``client`` is the caller's address (its lookups of unknown tokens are
        limited)."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None  # not one of ours: no need to ask the store
        key = digest(secret)
        await self._fresh()
        record = self._by_digest.get(key)
        if record is None:
            record = await self._look_up(key, client)
        if record is None or not record.valid(self.clock()):
            return None
        if record.kind is Kind.USER or by_cookie != (record.kind is Kind.SESSION):
            return None  # a session is not a bearer token, and a token is not a cookie
        return Identity(record, secret, by_cookie)

    async def _look_up(self, key: bytes, client: str) -> TokenRecord | None:
        """A digest the cache does not hold, from the store, unless it was unknown a
        moment ago or this client has asked too often."""
        now = time.monotonic()
        forget_at = self._unknown.get(key)
        if forget_at is not None and now < forget_at:
            return None
        if self._lookups.take(client, 1.0, now) > 0:
            return None
        try:
            record = await asyncio.to_thread(self.store.find, key)
        except StoreError as exc:
            log.warning("a token could not be looked up: %s", exc)
            return None
        if record is not None:
            self._by_digest[key] = record
        elif self._unknown_kept > 0:
            self._unknown.pop(key, None)
            while len(self._unknown) >= self._unknown_kept:
                del self._unknown[next(iter(self._unknown))]  # the oldest
            self._unknown[key] = now + UNKNOWN_SECONDS
        return record

    async def check_password(self, name: str, password: str) -> TokenRecord | None:
        """The user ``name`` if ``password`` is theirs. Verifying costs tens of milliseconds
        and 64 MiB on purpose (argon2id); a few run at once, the rest wait their turn, so
        guesses cannot take the server's memory."""
        from argon2 import PasswordHasher
        from argon2.exceptions import Argon2Error

        try:
            user = await asyncio.to_thread(self.store.find_user, name[:100])
        except StoreError as exc:
            log.warning("a user could not be looked up: %s", exc)
            return None
        hashed = user.password if user is not None and user.password else _decoy()

        def verify() -> bool:
            try:
                return PasswordHasher().verify(hashed, password[:1000])
            except Argon2Error:
                return False

        async with self._verifying:
            matches = await asyncio.to_thread(verify)
        if user is None or not matches or not user.valid(self.clock()):
            return None  # an unknown name takes as long as a wrong password
        return user

    def users(self) -> list[TokenRecord]:
        return [r for r in self._by_digest.values() if r.kind is Kind.USER]

    async def still_valid(self, identity: Identity) -> bool:
        """Whether an identity checked earlier (an open WebSocket's) still holds: revoked
        here, or in another process (seen at the reload this call makes when the cache is
        stale), it does not. A server whose only clients are WebSockets would otherwise
        never reload, and a token revoked with ``twinsync token revoke`` would keep its
        feed."""
        await self._fresh()
        record = self._by_digest.get(identity.record.digest)
        return record is not None and record.valid(self.clock())

    def tokens(self) -> list[TokenRecord]:
        return [r for r in self._by_digest.values() if r.kind is Kind.TOKEN]

    async def create(self, name: str, role: Role, *, expires_at: float | None = None,
                     sensors: tuple[str, ...] = (), actor: Actor = SYSTEM
                     ) -> tuple[str, TokenRecord]:
        now = self.clock()
        secret, record = new_token(name, role, now=now, expires_at=expires_at,
                                   sensors=sensors)
        await asyncio.to_thread(self.store.add, record, created(record, actor, now))
        self._by_digest[record.digest] = record
        return secret, record

    async def open_session(self, token: TokenRecord) -> tuple[str, TokenRecord]:
        secret, record = new_session(token, now=self.clock())
        await asyncio.to_thread(self.store.add, record)
        self._by_digest[record.digest] = record
        return secret, record

    async def revoke(self, token_id: str, *, actor: Actor = SYSTEM) -> None:
        """Revoke a token (or end a session) here at once, and in the store."""
        now = self.clock()
        found = await asyncio.to_thread(self.store.revoke, token_id, now,
                                        revoked(token_id, actor, now))
        for key, record in list(self._by_digest.items()):
            if record.id == token_id or record.parent == token_id:
                self._by_digest[key] = record.revoked(now)
        if not found and not any(r.id == token_id for r in self._by_digest.values()):
            raise NotFound(f"no token {token_id!r}")

    async def add_user(self, name: str, role: Role, password: str, *,
                       actor: Actor = SYSTEM) -> TokenRecord:
        """A new user; ``Conflict`` if a live user has that name already."""
        now = self.clock()
        async with self._verifying:  # hashing takes what a check takes
            record = await asyncio.to_thread(new_user, name, role, password, now=now)
        await asyncio.to_thread(self.store.add, record, created(record, actor, now))
        self._by_digest[record.digest] = record
        return record

    async def live_users(self) -> list[TokenRecord]:
        """Users not removed, from the store (one made by the command a moment ago too)."""
        records = await asyncio.to_thread(self.store.records)
        return [r for r in records if r.kind is Kind.USER and r.revoked_at is None]

    async def remove_user(self, user_id: str, *, actor: Actor = SYSTEM) -> None:
        """Remove a user and end their sessions, here at once and in the store."""
        if not any(u.id == user_id for u in await self.live_users()):
            raise NotFound(f"no user {user_id!r}")
        now = self.clock()
        await asyncio.to_thread(self.store.revoke, user_id, now,
                                revoked(user_id, actor, now, user=True))
        self._revoked_here(lambda r: r.id == user_id or r.parent == user_id, now)

    async def change_password(self, identity: Identity, current: str, new: str, *,
                              actor: Actor) -> None:
        """The signed-in user's password, if ``current`` is theirs; their other sessions
        end (one opened with the old password elsewhere must not outlive it)."""
        session = identity.record
        parent = None
        if session.kind is Kind.SESSION and session.parent is not None:
            parent = next((u for u in await self.live_users() if u.id == session.parent),
                          None)
        if parent is None:
            raise Forbidden("only a user signed in with a password changes it",
                            "not_a_user")
        user = await self.check_password(parent.name, current)
        if user is None or user.id != parent.id:
            raise Forbidden("the current password is not right", "wrong_password")
        async with self._verifying:
            hashed = await asyncio.to_thread(hash_password, new)
        now = self.clock()
        changed = await asyncio.to_thread(
            self.store.set_password, user.id, hashed, session.id, now,
            password_changed(user, actor, now))
        if not changed:
            raise NotFound(f"no user {user.id!r}")
        self._by_digest[user.digest] = dataclasses.replace(user, password=hashed)
        self._revoked_here(lambda r: r.parent == user.id and r.id != session.id, now)

    def _revoked_here(self, which: Callable[[TokenRecord], bool], now: float) -> None:
        for key, record in list(self._by_digest.items()):
            if which(record) and record.revoked_at is None:
                self._by_digest[key] = record.revoked(now)

    async def end_session(self, session: TokenRecord) -> None:
        now = self.clock()
        await asyncio.to_thread(self.store.revoke, session.id, now)
        self._by_digest[session.digest] = session.revoked(now)
