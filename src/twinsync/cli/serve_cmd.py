"""``twinsync demo`` and ``twinsync serve``: run the API and dashboard.

``demo`` creates an admin token for the day and prints a sign-in link with it. ``serve``
refuses to listen on an address other machines can reach while the store holds no valid
admin token: nobody could sign in to run it, and whoever first could reach it would.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import time

from ..config import Settings
from ..errors import InvalidInput
from ..store.tokens import open_token_store
from ..tokens import Kind, Role
from .token_cmd import create_token

#: The demo's admin token lasts this many days.
DEMO_TOKEN_DAYS = 1.0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--config", help="TOML settings file (default: twinsync.toml if present)")
    parser.add_argument("--store", help="store URL, e.g. sqlite:///twin.sqlite or postgresql://…")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    if name == "demo":
        parser.add_argument("--speed", type=float, default=None,
                            help="how much faster than real time the simulated site runs")
    parser.set_defaults(demo=name == "demo")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..api.app import create_app

    store = args.store
    if args.demo and store is None:
        store = "sqlite:///.twinsync/demo.sqlite"
    settings = Settings.load(args.config, store=store, host=args.host, port=args.port,
                             demo=True if args.demo else None,
                             simulator_speed=getattr(args, "speed", None))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    address = f"http://{_url_host(settings.host)}:{settings.port}"
    if args.demo:
        secret, _ = create_token(settings.store, "demo admin", Role.ADMIN, days=DEMO_TOKEN_DAYS)
        print(f"twinsync: sign in as the demo's admin (valid {DEMO_TOKEN_DAYS:g} day): "
              f"{address}/login#token={secret}", flush=True)
    elif not loopback(settings.host) and not has_admin(settings.store):
        raise InvalidInput(
            f"refusing to serve on {settings.host}, which other machines can reach, while "
            "the store has no admin token or user: create one with `twinsync token create "
            "NAME --role admin` or `twinsync user add NAME --role admin`, or serve on "
            "127.0.0.1", "no_admin")
    print(f"twinsync: serving {settings.store} at {address}", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="info", ws_ping_interval=20.0,
                # The WebSocket library refuses a larger frame (1009) before reading it.
                ws_max_size=settings.max_ws_frame_bytes,
                ws_per_message_deflate=settings.ws_compression)
    return 0


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def has_admin(store_url: str) -> bool:
    store = open_token_store(store_url)
    try:
        now = time.time()
        return any(r.role is Role.ADMIN and r.kind in (Kind.TOKEN, Kind.USER)
                   and r.valid(now) for r in store.records())
    finally:
        store.close()


def _url_host(host: str) -> str:
    """The host as a link names it: 0.0.0.0 is reached as 127.0.0.1 from this machine."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
