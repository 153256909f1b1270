"""Who may do what: roles, API tokens and dashboard sessions, with no I/O.

A token is 32 random bytes shown once, at creation (``tws_`` and 43 URL-safe characters);
what is stored is its SHA-256 digest, never the token. A plain digest is enough because
the secret is random and long: nothing can be guessed from the digest, and checking one
costs about a microsecond, where a password hash (argon2) would cost tens of milliseconds
on every request. A session is the same thing with a short life: the dashboard gets one
when it signs in with a token, kept in an HttpOnly cookie, and it dies with its token.

Roles (docs/SECURITY.md): ``viewer`` reads; ``operator`` also makes field updates,
changes statuses and acknowledges alarms; ``admin`` also manages models, bindings,
connectors and tokens; ``device`` only posts readings, and only for the sensors it was
granted (``fnmatch`` patterns such as ``L1-*``).

>>> secret, record = new_token("gateway", Role.DEVICE, sensors=("L1-*",), now=0.0)
>>> record.digest == digest(secret), record.grants("L1-slab-t1"), record.grants("L2-x")
(True, True, False)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import InvalidInput

PREFIX = "tws_"
#: How long a dashboard session lasts (it never outlives its token).
SESSION_SECONDS = 12 * 3600.0


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    DEVICE = "device"


class Kind(StrEnum):
    TOKEN = "token"
    SESSION = "session"
    USER = "user"
    """A person who signs in with a name and a password (argon2 hash in ``password``)."""


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token or a session as stored: everything but the secret."""

    id: str
    name: str
    role: Role
    digest: bytes
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    sensors: tuple[str, ...] = ()
    """For a device: the sensor ids (or ``fnmatch`` patterns) it may post readings for."""
    kind: Kind = Kind.TOKEN
    parent: str | None = None
    """For a session: the id of the token or user it was opened with."""
    password: str | None = None
    """For a user: the argon2 hash of the password. Its ``digest`` is random: a user's
    record is never found by a presented secret."""

    def valid(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def grants(self, sensor_id: str) -> bool:
        """Whether readings of ``sensor_id`` may come with this identity."""
        return self.grant_check()(sensor_id)

    def grant_check(self) -> Callable[[str], bool]:
        """``grants`` for a whole batch: the patterns are looked up once."""
        if self.role is not Role.DEVICE:
            allowed = self.role is Role.ADMIN
            return lambda sensor_id: allowed
        match = _granted(self.sensors).fullmatch
        return lambda sensor_id: match(sensor_id) is not None

    def public(self) -> dict[str, Any]:
        """What a listing shows: never the digest or the password's hash."""
        return {"id": self.id, "name": self.name, "role": self.role.value,
                "kind": self.kind.value, "created_at": self.created_at,
                "expires_at": self.expires_at, "revoked_at": self.revoked_at,
                "sensors": list(self.sensors), "parent": self.parent}

    def revoked(self, now: float) -> TokenRecord:
        return dataclasses.replace(self, revoked_at=now)


@functools.lru_cache(maxsize=1024)
def _granted(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """A device's patterns as one expression: checked once per reading on the device path,
    where one ``fnmatch`` call per pattern cost several µs a reading."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns) or "(?!)")


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def role_of(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"unknown role {value!r}; roles: "
                           f"{', '.join(r.value for r in Role)}", "bad_role") from None


def new_token(name: str, role: Role, *, now: float, expires_at: float | None = None,
              sensors: tuple[str, ...] = ()) -> tuple[str, TokenRecord]:
    """A fresh secret and the record to store for it."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a token needs a name of 1 to 100 characters", "bad_token")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("a token must expire in the future", "bad_token")
    if role is Role.DEVICE and not sensors:
        raise InvalidInput("a device token needs the sensors it may post for", "bad_token")
    if role is not Role.DEVICE and sensors:
        raise InvalidInput("only a device token is granted sensors", "bad_token")
    secret = PREFIX + secrets.token_urlsafe(32)
    record = TokenRecord(secrets.token_hex(6), name, role, digest(secret), now, expires_at,
                         sensors=tuple(sensors))
    return secret, record


USER_ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
MIN_PASSWORD = 10
#: What a sign-in reads of a password (the rest would be ignored): no longer may be set.
MAX_PASSWORD = 1000


def new_user(name: str, role: Role, password: str, *, now: float) -> TokenRecord:
    """A person's record: the password hashed with argon2id (slow on purpose)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a user needs a name of 1 to 100 characters", "bad_user")
    if role not in USER_ROLES:
        raise InvalidInput("a user is a viewer, an operator or an admin; a device has a "
                           "token", "bad_user")
    return TokenRecord(secrets.token_hex(6), name, role, secrets.token_bytes(32), now,
                       kind=Kind.USER, password=hash_password(password))


def hash_password(password: str) -> str:
    """A password's argon2id hash (64 MiB, 3 passes: slow on purpose), once it is long
    enough."""
    from argon2 import PasswordHasher

    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password has at least {MIN_PASSWORD} characters", "bad_user")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"a password has at most {MAX_PASSWORD} characters", "bad_user")
    return PasswordHasher().hash(password)


def new_session(token: TokenRecord, *, now: float) -> tuple[str, TokenRecord]:
    """A session opened with ``token``: same role and grants, a short life."""
    secret = PREFIX + secrets.token_urlsafe(32)
    ends = now + SESSION_SECONDS
    if token.expires_at is not None:
        ends = min(ends, token.expires_at)
    record = TokenRecord(secrets.token_hex(6), token.name, token.role, digest(secret), now,
                         ends, sensors=token.sensors, kind=Kind.SESSION, parent=token.id)
    return secret, record


def csrf_of(session_secret: str) -> str:
    """The CSRF value that goes with a session: derived from its secret, so a page of
    another site, which can neither read the cookie nor this value, cannot forge it."""
    return hmac.new(session_secret.encode(), b"twinsync-csrf", hashlib.sha256).hexdigest()
