"""Cost of access control: µs per request in front of a route, µs per reading for a device.

Times ``AccessMiddleware`` itself around a route that does nothing, called in-process as
the server calls it (no network, no handler): the rule lookup, the token's digest and
cache lookup, the role check, the CSRF check for a cookie. ``open`` is the lookup alone
(a route anyone may call). ``device_us_per_reading`` is the grant check of a device's
batch, per reading (``fnmatch`` patterns, as ``twinsync token create --sensor`` takes).

Refused requests: ``unknown_token`` sends one made-up token again and again (remembered
as unknown after its first lookup), ``unknown_token_uncached`` the same with that memory
and the per-address limit off (a store query every time, as before they existed), and
``made_up_tokens`` a new made-up token with every request from one address (past the
address's lookups, refused without a query).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from ..api.access import AccessMiddleware
from ..api.auth import CSRF_HEADER, SESSION_COOKIE, Authenticator
from ..api.rates import RateLimits
from ..api.routes_readings import keep_granted
from ..ingest.decoded import Decoded
from ..pipeline import RawReading
from ..store.tokens import open_token_store
from ..tokens import Role, csrf_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=50_000, help="requests per case")
    parser.add_argument("--readings", type=int, default=1_000, help="readings per batch")
    parser.add_argument("--tokens", type=int, default=1_000,
                        help="tokens in the store (the cache's size)")


class _App:
    """What the middleware reads of the app: its state."""

    def __init__(self, auth: Authenticator) -> None:
        # Limits so high that none refuses: the buckets are taken, their cost measured.
        self.state = argparse.Namespace(auth=auth, cors_origins=[],
                                        rates=RateLimits.of(1e12, 1e12))


async def _nothing(scope: Any, receive: Any, send: Any) -> None:
    return None


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: Any) -> None:
    raise AssertionError(f"the request was refused: {message}")


async def _refused(message: Any) -> None:
    if message["type"] == "http.response.start" and message["status"] != 401:
        raise AssertionError(f"expected 401, not {message['status']}")


def _made_up(number: int) -> str:
    return "tws_" + f"{number:043d}"


def _scope(app: _App, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "app": app, "scheme": "http",
            "query_string": b"", "server": ("127.0.0.1", 8000), "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


async def _time(middleware: AccessMiddleware, scope: dict[str, Any], requests: int,
                send: Any = _send) -> float:
    for _ in range(min(requests, 1000)):  # warm: caches, the first reload
        await middleware(dict(scope), _receive, send)
    began = time.perf_counter()
    for _ in range(requests):
        await middleware(dict(scope), _receive, send)
    return (time.perf_counter() - began) / requests * 1e6


async def _time_made_up(middleware: AccessMiddleware, app: _App, requests: int) -> float:
    """A new made-up token with each request, all from one address."""
    scopes = [_scope(app, "GET", "/api/elements/L1-slab",
                     {"authorization": f"Bearer {_made_up(n)}"}) for n in range(requests)]
    for scope in scopes:
        scope["client"] = ("10.0.0.7", 40000)
    began = time.perf_counter()
    for scope in scopes:
        await middleware(scope, _receive, _refused)
    return (time.perf_counter() - began) / requests * 1e6


async def _bench(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    store = open_token_store(f"sqlite:///{folder / 'tokens.sqlite'}")
    auth = Authenticator(store)
    for n in range(args.tokens - 2):
        await auth.create(f"other {n}", Role.VIEWER)
    token, record = await auth.create("bench operator", Role.OPERATOR)
    device_token, _ = await auth.create("bench device", Role.DEVICE,
                                        sensors=("L1-*", "L2-*", "WEATHER-T"))
    device = await auth.identify(device_token)
    session, _ = await auth.open_session(record)
    auth.load()
    app = _App(auth)
    middleware = AccessMiddleware(_nothing)
    json_body = {"content-type": "application/json", "content-length": "2"}
    cases = {
        "open": _scope(app, "GET", "/healthz", {}),
        "bearer_get": _scope(app, "GET", "/api/elements/L1-slab",
                             {"authorization": f"Bearer {token}"}),
        "cookie_patch_csrf": _scope(app, "PATCH", "/api/elements/L1-slab", {
            "cookie": f"{SESSION_COOKIE}={session}", CSRF_HEADER: csrf_of(session),
            **json_body}),
        "device_post": _scope(app, "POST", "/api/readings",
                              {"authorization": f"Bearer {device_token}", **json_body}),
    }
    # What the loop itself costs (a call straight to the route that does nothing), so the
    # figures can be read net of it.
    harness = await _time(_nothing, cases["open"], args.requests)  # type: ignore[arg-type]
    us_per_request = {name: round(await _time(middleware, scope, args.requests) - harness, 2)
                      for name, scope in cases.items()}
    unknown = _scope(app, "GET", "/api/elements/L1-slab",
                     {"authorization": f"Bearer {_made_up(0)}"})
    us_per_request["unknown_token"] = round(
        await _time(middleware, unknown, args.requests, _refused) - harness, 2)
    us_per_request["made_up_tokens"] = round(
        await _time_made_up(middleware, app, args.requests) - harness, 2)
    # As before unknown tokens were remembered or limited: a store query each time (fewer
    # requests: each costs a query).
    plain = Authenticator(store, unknown_kept=0, lookups_per_second=0.0)
    plain.load()
    us_per_request["unknown_token_uncached"] = round(
        await _time(middleware, _scope(_App(plain), "GET", "/api/elements/L1-slab",
                                       {"authorization": f"Bearer {_made_up(0)}"}),
                    max(1, args.requests // 10), _refused) - harness, 2)
    assert device is not None
    # All granted, as a device's batches are (a refused reading costs a dead letter).
    readings = [RawReading(f"L{1 + n % 2}-room-{n}", 1.0) for n in range(args.readings)]
    rounds = max(1, 200_000 // args.readings)
    began = time.perf_counter()
    for _ in range(rounds):
        decoded = Decoded(list(readings), list(range(len(readings))))
        keep_granted(decoded, device)
    per_reading = (time.perf_counter() - began) / (rounds * args.readings) * 1e6
    store.close()
    return {"requests": args.requests, "tokens": args.tokens,
            "us_per_request": us_per_request, "harness_us": round(harness, 2),
            "device_us_per_reading": round(per_reading, 3),
            "device_batch": args.readings}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-auth-") as folder:
        return asyncio.run(_bench(args, Path(folder)))
