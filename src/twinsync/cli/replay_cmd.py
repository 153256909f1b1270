"""``twinsync replay FILE.csv``: back-fill history or drive a demo from a CSV file.

Long files have timestamp, sensor and value columns (and optionally unit); wide files
have a timestamp column and one column per sensor. ``--speed 10`` replays ten times
faster than the timestamps say; ``--speed 0`` (the default) as fast as possible.
With ``--url`` the readings go to a running twinsync over HTTP; otherwise straight into
the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidInput
from ..ingest.replay import replay_file
from ..pipeline import DeadLetter, IncomingBatch
from .token_cmd import bearer_header


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("file", type=Path, help="the CSV file")
    parser.add_argument("--speed", type=float, default=0.0,
                        help="times faster than real time; 0 = as fast as possible")
    parser.add_argument("--layout", choices=["auto", "long", "wide"], default="auto")
    parser.add_argument("--source", default=None, help="source name for the readings' clock")
    parser.add_argument("--store", help="store URL to write to directly")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--url", help="a running twinsync, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="with --url: a device or admin token (default: "
                                        "$TWINSYNC_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


class HttpSink:
    """Sends replayed readings to ``POST /api/readings``. Rows the CSV reader could not
    use are written beside the file (``FILE.dead-letters.jsonl``): never dropped."""

    def __init__(self, url: str, dead_letter_file: Path, token: str | None = None) -> None:
        import httpx

        self.client = httpx.AsyncClient(base_url=url.rstrip("/"), timeout=60.0,
                                        headers=bearer_header(token))
        self.dead_letter_file = dead_letter_file

    async def ingest(self, incoming: IncomingBatch,
                     dead_letters: Sequence[DeadLetter] = ()) -> Any:
        if dead_letters:
            with self.dead_letter_file.open("a") as out:
                for letter in dead_letters:
                    out.write(json.dumps(letter.to_dict(), default=str) + "\n")
        readings = [{k: v for k, v in r._asdict().items() if v is not None}
                    for r in incoming.readings]
        response = await self.client.post("/api/readings", json={"readings": readings},
                                          headers={"x-twinsync-source": incoming.source})
        if response.status_code >= 400:
            raise InvalidInput(f"the server refused the batch: {response.text}", "upload_failed")
        return argparse.Namespace(accepted=response.json()["accepted"])

    async def aclose(self) -> None:
        await self.client.aclose()


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    options: dict[str, Any] = {"layout": args.layout}
    if args.source:
        options["source"] = args.source
    result = asyncio.run(_replay(args, options))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"replayed {result['readings']} readings from {args.file.name}: "
              f"{result['accepted']} accepted, {result['rejected']} refused (kept as dead "
              f"letters), {result['dead_letters']} unreadable rows, {result['seconds']:.1f} s")
    return 0


async def _replay(args: argparse.Namespace, options: dict[str, Any]) -> dict[str, Any]:
    if args.url:
        sink = HttpSink(args.url, args.file.with_suffix(".dead-letters.jsonl"), args.token)
        try:
            return (await replay_file(args.file, sink, speed=args.speed, **options)).to_dict()
        finally:
            await sink.aclose()
    from ..service import TwinService

    settings = Settings.load(args.config, store=args.store)
    service = TwinService.open(settings.store)
    try:
        return (await replay_file(args.file, service, speed=args.speed, **options)).to_dict()
    finally:
        await service.aclose()
