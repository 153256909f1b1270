"""What signing in, tokens and the audit log answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Alive(BaseModel):
    status: str


class SessionOpened(BaseModel):
    """Signed in: the session cookie is set; send ``csrf`` back in ``X-CSRF-Token`` with
    every change made with the cookie."""

    name: str
    role: str
    expires_at: float | None
    csrf: str


class WhoAmI(BaseModel):
    name: str
    role: str
    kind: str
    """``token``, ``user`` or ``session``."""
    expires_at: float | None
    sensors: list[str]
    """A device token's grants (ids or ``fnmatch`` patterns)."""


class SignedOut(BaseModel):
    signed_out: bool


class TokenOut(BaseModel):
    """A token or user as listed: never its secret."""

    id: str
    name: str
    role: str
    kind: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    sensors: list[str]
    parent: str | None


class TokenCreated(TokenOut):
    token: str
    """The secret: shown in this answer only, never again."""


class TokenList(BaseModel):
    tokens: list[TokenOut]


class TokenRevoked(BaseModel):
    revoked: str


class Actor(BaseModel):
    """Who made a change: the token's (or user's) name and role, and its id."""

    name: str
    role: str
    token_id: str | None


class AuditEntryOut(BaseModel):
    id: int | None
    time: float
    operation: str
    target: str
    element_id: str | None
    sensor_id: str | None
    by: Actor
    before: Any
    after: Any


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: dict[str, int] | None
    """The query parameter (``after`` or ``before``) that asks for the following page."""


class AuditHead(BaseModel):
    """The chain's newest entry: keep ``<id>:<hash>`` elsewhere and pass it back as
    ``expect`` to find a chain rewritten since."""

    id: int
    hash: str


class AuditVerdict(BaseModel):
    """What walking the audit log's hash chain from its anchor found."""

    ok: bool
    checked: int
    """Entries checked."""
    anchor_id: int
    """The entry the chain is checked from (0, or the last one a prune removed)."""
    head: AuditHead
    broken_at: int | None
    """The first entry that breaks the chain, if one does."""
    problem: str | None
    """What is wrong with it (or with the kept head named by ``expect``)."""


class UserList(BaseModel):
    users: list[TokenOut]
    duplicates: dict[str, list[str]]
    """Names held by more than one live user (a store made before names were unique),
    each with its users' ids: remove all but one."""


class UserRemoved(BaseModel):
    removed: str


class PasswordChanged(BaseModel):
    changed: bool
