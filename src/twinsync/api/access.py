"""Who may call what: one table for every HTTP route and WebSocket command, and the guard
that enforces it on every request.

``AccessMiddleware`` runs before any route sees a request (its body unread, a WebSocket
not yet accepted), static files included. A route missing from ``ROUTES`` is refused to
everyone (and a test walks the app's routes so that a new route without an entry fails
the suite). Only ``OPEN`` entries answer without a token: the health check and signing in.

A request proves who it is with ``Authorization: Bearer <token>`` or, from the dashboard,
with the session cookie; a state-changing request made with the cookie must also carry
the CSRF value in ``X-CSRF-Token`` (a page of another site can make the browser send the
cookie, but cannot read the value). A WebSocket whose ``Origin`` is not this server's own
(or one of ``cors_origins``) is refused before it opens. A body sent to a JSON route must
say it is JSON: a ``text/plain`` or form post, which any page can send cross-site without
asking, is refused with 415.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import RedirectResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import Forbidden, Unauthenticated, UnsupportedMediaType
from ..model import Source
from ..store.audit import Actor
from ..tokens import USER_ROLES, Kind, Role, csrf_of
from .auth import CSRF_HEADER, SESSION_COOKIE, Authenticator, Identity
from .paths import precedence
from .rates import RateLimited
from .responses import JSON

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Access:
    """Who may call a route (None: anyone) and what body it reads."""

    roles: frozenset[Role] | None
    body: str = "json"
    """``json``: only JSON content types; ``upload``: a file (any type but forms and text)."""

    def allows(self, role: Role) -> bool:
        return self.roles is None or role in self.roles


OPEN = Access(None)
READ = Access(frozenset({Role.VIEWER, Role.OPERATOR, Role.ADMIN}))
OPERATE = Access(frozenset({Role.OPERATOR, Role.ADMIN}))
ADMINISTER = Access(frozenset({Role.ADMIN}))
INGEST = Access(frozenset({Role.DEVICE, Role.ADMIN}))
SIGNED_IN = Access(frozenset(Role))
#: A signed-in person (a device has a token, never a password).
PASSWORD = Access(frozenset(USER_ROLES))
#: A clock exchange: readers, and a device syncing its own clock (the route checks whose).
SYNC = Access(frozenset({Role.DEVICE, Role.ADMIN}))
UPLOAD = Access(frozenset({Role.ADMIN}), body="upload")
#: A file an operator may send (a survey of the site), read like an upload.
SURVEY = Access(frozenset({Role.OPERATOR, Role.ADMIN}), body="upload")

#: (method, route path) → who may call it. ``WS`` is the WebSocket; ``MOUNT`` a folder of
#: static files.
ROUTES: dict[tuple[str, str], Access] = {
    # open: a liveness probe and signing in
    ("GET", "/healthz"): OPEN,
    ("GET", "/login"): OPEN,
    ("POST", "/api/session"): OPEN,
    # the signed-in caller
    ("GET", "/api/session"): SIGNED_IN,
    ("DELETE", "/api/session"): SIGNED_IN,
    # the dashboard and its files
    ("GET", "/"): READ,
    ("MOUNT", "/static"): READ,
    ("MOUNT", "/vendor"): READ,
    ("GET", "/openapi.json"): READ,
    ("GET", "/docs"): READ,  # the document as pages: for whoever may read it
    ("GET", "/redoc"): READ,
    ("WS", "/ws"): READ,  # and each command by WS_COMMANDS
    # the twin
    ("GET", "/api/project"): READ,
    ("GET", "/api/elements"): READ,
    ("GET", "/api/elements/{element_id:id}"): READ,
    ("PATCH", "/api/elements/{element_id:id}"): OPERATE,
    ("POST", "/api/elements/{element_id:id}/measurements"): OPERATE,
    ("POST", "/api/elements"): ADMINISTER,
    ("GET", "/api/sensors"): READ,
    ("POST", "/api/sensors"): ADMINISTER,
    ("GET", "/api/sensors/{sensor_id:id}"): READ,
    ("PUT", "/api/sensors/{sensor_id:id}/binding"): ADMINISTER,
    ("DELETE", "/api/sensors/{sensor_id:id}/binding"): ADMINISTER,
    ("GET", "/api/events"): READ,
    ("GET", "/api/audit"): ADMINISTER,  # it holds everyone's before and after values
    ("GET", "/api/audit/verify"): ADMINISTER,
    ("GET", "/api/connectors"): ADMINISTER,
    ("POST", "/api/connectors"): ADMINISTER,
    ("DELETE", "/api/connectors/{name:id}"): ADMINISTER,
    # readings
    ("POST", "/api/readings"): INGEST,
    ("GET", "/api/sensors/{sensor_id:id}/readings"): READ,
    ("GET", "/api/dead-letters"): ADMINISTER,  # they hold anyone's raw input
    # the BIM model
    ("POST", "/api/models"): UPLOAD,
    ("GET", "/api/model"): READ,
    ("GET", "/api/model.glb"): READ,
    # the schedule
    ("POST", "/api/schedules"): UPLOAD,
    ("GET", "/api/schedule"): READ,
    ("GET", "/api/schedule/elements"): READ,
    ("GET", "/api/schedule/activities/{activity_id:id}"): READ,
    ("PUT", "/api/schedule/activities/{activity_id:id}/elements"): ADMINISTER,
    ("POST", "/api/schedule/activities/{activity_id:id}/progress"): OPERATE,
    ("POST", "/api/schedule/surveys"): SURVEY,
    ("GET", "/api/schedule/link-rules"): READ,
    ("POST", "/api/schedule/link-rules"): ADMINISTER,
    ("GET", "/api/schedule/report.csv"): READ,
    ("GET", "/api/schedule/report.xlsx"): READ,
    # declared site events (a pour, a load step): health takes them into account
    ("GET", "/api/site-events"): READ,
    ("POST", "/api/site-events"): OPERATE,
    ("DELETE", "/api/site-events/{event_id:id}"): OPERATE,
    # anomalies a person expects (a pour, a load test): no alarm in their span
    ("GET", "/api/anomalies/expected"): READ,
    ("POST", "/api/anomalies/expected"): OPERATE,
    ("DELETE", "/api/anomalies/expected/{mark_id:id}"): OPERATE,
    # progress from sensors: concrete mixes, and an element's maturity
    ("GET", "/api/mixes"): READ,
    ("POST", "/api/mixes"): ADMINISTER,
    ("GET", "/api/elements/{element_id:id}/maturity"): READ,
    # a property's readings looked ahead
    ("GET", "/api/elements/{element_id:id}/forecast"): READ,
    # its sensors' level/trend models: divergence and recalibration
    ("GET", "/api/elements/{element_id:id}/twin"): READ,
    # a space's thermal zone: R and C learned online, its temperature ahead
    ("GET", "/api/elements/{element_id:id}/zone"): READ,
    # a shadow tracker beside the live one: compared, promoted or stopped
    ("GET", "/api/twin/shadow"): READ,
    ("POST", "/api/twin/shadow"): OPERATE,
    ("POST", "/api/twin/shadow/promote"): OPERATE,
    ("DELETE", "/api/twin/shadow"): OPERATE,
    # predicted against measured over a range, and every element's model state
    ("GET", "/api/elements/{element_id:id}/twin/track"): READ,
    ("GET", "/api/twin/states"): READ,
    # trust and time
    ("GET", "/api/sensors/{sensor_id:id}/health"): READ,
    ("GET", "/api/health"): READ,
    ("GET", "/api/sources"): READ,
    ("GET", "/api/time"): SIGNED_IN,  # a device too: step one of its clock exchange
    ("POST", "/api/time"): SYNC,  # it moves a clock estimate: a device only its own
    ("GET", "/api/alarms"): READ,
    ("POST", "/api/alarms/{key:id}/ack"): OPERATE,
    ("GET", "/metrics"): READ,
    # tokens
    ("GET", "/api/tokens"): ADMINISTER,
    ("POST", "/api/tokens"): ADMINISTER,
    ("DELETE", "/api/tokens/{token_id:id}"): ADMINISTER,
    # users who sign in with a password; each changes their own
    ("GET", "/api/users"): ADMINISTER,
    ("POST", "/api/users"): ADMINISTER,
    ("DELETE", "/api/users/{user_id:id}"): ADMINISTER,
    ("POST", "/api/session/password"): PASSWORD,  # the route checks it is a user's session
}
#: ``ROUTES`` by the paths the OpenAPI document names: a parameter without its convertor
#: (``{key}``, not ``{key:id}``).
DOCUMENTED: dict[tuple[str, str], Access] = {
    (method, re.sub(r":\w+}", "}", path)): access for (method, path), access in ROUTES.items()
}

#: WebSocket message type → who may send it (over a socket any signed-in reader opened).
WS_COMMANDS: dict[str, Access] = {
    "subscribe": READ,
    "unsubscribe": READ,
    "ping": READ,
    "update": OPERATE,
}

JSON_TYPES = ("application/json",)


def authenticator(connection: HTTPConnection) -> Authenticator:
    auth: Authenticator = connection.app.state.auth
    return auth


async def identify(connection: HTTPConnection) -> Identity | None:
    """The caller: a bearer token if one is sent, else the session cookie."""
    auth = authenticator(connection)
    client = connection.client.host if connection.client else ""
    header = connection.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return await auth.identify(secret.strip(), client=client)
    cookie = connection.cookies.get(SESSION_COOKIE)
    if cookie:
        return await auth.identify(cookie, by_cookie=True, client=client)
    return None


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def check_body(connection: HTTPConnection, access: Access) -> None:
    """Refuse a body of a type the route does not read, before a byte of it is read."""
    headers = connection.headers
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if not has_body:
        return
    content_type = headers.get("content-type", "")
    if access.body == "json":
        if not is_json(content_type):
            raise UnsupportedMediaType(
                f"this route reads JSON: send 'Content-Type: application/json', not "
                f"{content_type.split(';', 1)[0][:60] or 'none'!r}")
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith("text/") or media == "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(f"a file is sent as application/octet-stream or "
                                   f"multipart/form-data, not {media[:60]!r}")


def check_csrf(connection: HTTPConnection, identity: Identity) -> None:
    sent = connection.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_of(identity.secret).encode()):
        raise Forbidden(f"a change made with the session cookie needs the "
                        f"{CSRF_HEADER} header", "csrf")


def origin_allowed(connection: HTTPConnection, allowed: Sequence[str]) -> bool:
    """A browser's Origin must be this server's own, or allowed by the settings; a client
    that sends none (not a browser) is judged by its token alone."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    host = connection.headers.get("host", "")
    secure = connection.url.scheme in ("https", "wss")
    own = f"{'https' if secure else 'http'}://{host}"
    return origin == own or origin in allowed


async def check(connection: HTTPConnection, method: str, path: str | None) -> None:
    """Enforce ``ROUTES`` for one request; sets ``connection.state.identity``."""
    access = ROUTES.get((method, path or ""))
    if access is None:
        raise Forbidden(f"no access rule for {method} {path}", "no_access_rule")
    if method in UNSAFE and access.roles is None:
        check_body(connection, access)
    if access.roles is None:
        connection.state.identity = None
        return
    identity = await identify(connection)
    if identity is None:
        raise Unauthenticated()
    if not access.allows(identity.role):
        raise Forbidden(f"the {identity.role.value} role may not call {method} {path}")
    if method in UNSAFE:
        if identity.by_cookie:
            check_csrf(connection, identity)
        check_body(connection, access)
    connection.state.identity = identity


def _matchers() -> dict[str, list[tuple[re.Pattern[str], tuple[str, str]]]]:
    """``ROUTES`` as the middleware looks them up: per method, each path's pattern (the
    router's own syntax: ``{name:id}`` one path segment or more, api/paths.py), a path
    ending in a parameter after those naming a tail, as the app's routes are ordered; a
    mount takes its whole folder."""
    table: dict[str, list[tuple[re.Pattern[str], tuple[str, str]]]] = {}
    for method, path in sorted(ROUTES, key=lambda key: precedence(key[1])):
        if method == "MOUNT":
            pattern = re.compile(re.escape(path) + "/.*")
            for verb in ("GET", "HEAD"):
                table.setdefault(verb, []).append((pattern, (method, path)))
        else:
            table.setdefault(method, []).append((compile_path(path)[0], (method, path)))
    return table


_MATCHERS = _matchers()
#: Paths without parameters, found by one dictionary lookup before any pattern is tried.
_EXACT = {key: key for key in ROUTES if key[0] != "MOUNT" and "{" not in key[1]}


def route_key(scope: Scope) -> tuple[str, str] | None:
    """The ``ROUTES`` entry a request falls under; None if there is none."""
    method = "WS" if scope["type"] == "websocket" else scope["method"]
    path = scope["path"]
    exact = _EXACT.get((method, path))
    if exact is not None:
        return exact
    for pattern, key in _MATCHERS.get(method, ()):
        if pattern.fullmatch(path):
            return key
    return None


class AccessMiddleware:
    """Enforces ``ROUTES`` before a route sees a request: before its body is read, before
    a WebSocket is accepted, and for the static files too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        key = route_key(scope)
        if key is None:
            # Not in the table: refused whatever the app would do with it, so a route
            # added without an entry is closed, not open.
            await _refuse(scope, receive, send, NoRoute())
            return
        connection = HTTPConnection(scope, receive)
        try:
            if scope["type"] == "websocket" and not origin_allowed(
                    connection, scope["app"].state.cors_origins):
                raise Forbidden("this origin may not open the WebSocket", "bad_origin")
            await check(connection, *key)
        except (Forbidden, UnsupportedMediaType) as exc:
            if key == ("GET", "/") and isinstance(exc, Unauthenticated):
                # The dashboard's address: a person who is not signed in is sent to sign in.
                await RedirectResponse("/login", status_code=303)(scope, receive, send)
                return
            await _refuse(scope, receive, send, exc)
            return
        identity = connection.state.identity
        if identity is not None:
            wait = scope["app"].state.rates.requests.take(identity.record.id, 1.0,
                                                          time.monotonic())
            if wait > 0:
                await _too_many(scope, receive, send, RateLimited("requests", wait))
                return
        await self.app(scope, receive, send)


class NoRoute(Forbidden):
    def __init__(self) -> None:
        super().__init__("no such route", "not_found")


async def _refuse(scope: Scope, receive: Receive, send: Send,
                  exc: Forbidden | UnsupportedMediaType) -> None:
    if scope["type"] == "websocket":
        # Closing before accepting: the server answers the handshake with 403.
        await receive()
        await send({"type": "websocket.close", "code": 1008, "reason": exc.reason})
        return
    from .errors import refusal, unsupported

    if isinstance(exc, NoRoute):
        answer = JSON({"error": exc.reason, "detail": str(exc)}, status_code=404)
    else:
        answer = refusal(exc) if isinstance(exc, Forbidden) else unsupported(exc)
    await answer(scope, receive, send)


async def _too_many(scope: Scope, receive: Receive, send: Send, exc: RateLimited) -> None:
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.close", "code": 1013, "reason": "rate_limited"})
        return
    from .errors import rate_limited

    await rate_limited(exc)(scope, receive, send)


def earned_source(identity: Identity, claimed: str | None = None) -> Source:
    """The provenance of a value this identity writes: a device's is ``iot``, a person's
    ``field``. A different source claimed in the body is refused, never believed."""
    earned = Source.IOT if identity.role is Role.DEVICE else Source.FIELD
    if claimed is not None and claimed != earned.value:
        raise Forbidden(f"values written with this token have source {earned.value!r}; "
                        f"{claimed[:20]!r} is not yours to claim", "source_not_yours")
    return earned


def actor_of(identity: Identity) -> Actor:
    """Who a change is recorded as: the token's name and role, and the token's id (for a
    session, that of the token or user it was opened with)."""
    record = identity.record
    token_id = record.parent if record.kind is Kind.SESSION and record.parent else record.id
    return Actor(record.name, record.role.value, token_id)


def actor(connection: HTTPConnection) -> Actor:
    return actor_of(identity_of(connection))


def identity_of(connection: HTTPConnection) -> Identity:
    """The caller of a route that is not open (the guard has checked it)."""
    identity: Identity | None = getattr(connection.state, "identity", None)
    if identity is None:
        raise Unauthenticated()
    return identity


def route_keys(routes: Sequence[Any]) -> list[tuple[str, str]]:
    """Every (method, path) the app's ``routes`` serve, as ``ROUTES`` names them (a test
    walks them: a route without an entry fails the suite)."""
    from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
    from starlette.routing import Mount

    keys: list[tuple[str, str]] = []
    for context in iter_route_contexts(list(routes)):
        route, path = context.original_route, context.path or "?"
        if isinstance(route, APIRoute):
            keys += [(verb, path) for verb in sorted(route.methods or ())]
        elif isinstance(route, APIWebSocketRoute):
            keys.append(("WS", path))
        elif isinstance(route, Mount):
            keys.append(("MOUNT", path))
        else:
            keys.append((type(route).__name__, path))
    return keys
