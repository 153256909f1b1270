"""``twinsync demo`` and ``twinsync serve``: run the API and dashboard."""

from __future__ import annotations

import argparse
import logging

from ..config import Settings


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
    print(f"twinsync: serving {settings.store} at http://{settings.host}:{settings.port}",
          flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="info", ws_ping_interval=20.0,
                # The WebSocket library refuses a larger frame (1009) before reading it.
                ws_max_size=settings.max_ws_frame_bytes,
                ws_per_message_deflate=settings.ws_compression)
    return 0
