"""``twinsync import ifc FILE``: import a BIM model revision into a twin.

With ``--url`` the file is uploaded to a running twinsync (``POST /api/models``), so the
live twin updates at once; otherwise it is imported straight into the store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConnectorError, InvalidInput


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("format", choices=["ifc"], help="what kind of file (ifc)")
    parser.add_argument("file", type=Path, help="the model file")
    parser.add_argument("--store", help="store URL (default from twinsync.toml or the default)")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--url", help="a running twinsync to upload to, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="with --url: an admin token (default: $TWINSYNC_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    data = args.file.read_bytes()
    if args.url:
        report = _upload(args.url, args.file.name, data, args.token)
    else:
        settings = Settings.load(args.config, store=args.store)
        report = asyncio.run(_import(settings.store, args.file.name, data))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"imported {args.file.name} ({report['schema']}, revision {report['revision']}):"
              f" {len(report['added'])} added, {len(report['changed'])} changed,"
              f" {len(report['removed'])} archived, {report['unchanged']} unchanged,"
              f" {len(report['sensors_added'])} sensors added")
    return 0


def _upload(url: str, name: str, data: bytes, token: str | None) -> dict[str, Any]:
    import httpx

    from .token_cmd import bearer_header

    target = f"{url.rstrip('/')}/api/models"
    try:
        response = httpx.post(target, params={"name": name}, content=data, timeout=600.0,
                              headers={"content-type": "application/octet-stream",
                                       **bearer_header(token)})
    except httpx.InvalidURL as exc:
        raise InvalidInput(f"--url {url!r} is not a URL: {exc}", "bad_url") from exc
    except httpx.TransportError as exc:  # refused, unknown host, timed out, no scheme
        raise ConnectorError(f"cannot reach twinsync at {url}: {exc or type(exc).__name__}"
                             ) from exc
    try:
        body = response.json()
    except ValueError:
        # A proxy's HTML page, or not twinsync at all.
        body = None
    if response.status_code >= 400:
        if isinstance(body, dict):
            raise InvalidInput(f"{body.get('error')}: {body.get('detail')}", "upload_failed")
        raise InvalidInput(f"{target} answered {response.status_code} "
                           f"{response.reason_phrase}", "upload_failed")
    if not isinstance(body, dict):
        raise ConnectorError(f"{target} did not answer with an import report: is {url} "
                             "a twinsync server?")
    return body


async def _import(url: str, name: str, data: bytes) -> dict[str, Any]:
    from ..service import TwinService

    service = TwinService.open(url)
    try:
        return await service.models.import_bytes(data, name=name)
    finally:
        await service.aclose()
