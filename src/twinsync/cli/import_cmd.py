"""``twinsync import ifc FILE``: import a BIM model revision into a twin.

With ``--url`` the file is uploaded to a running twinsync (``POST /api/models``), so the
live twin updates at once; otherwise it is imported straight into the store, and its GLB
is exported at once with the geometry kernel of ``--kernel`` (or ``geometry_kernel`` in the
settings), so the dashboard finds it ready and the import says which elements have no
geometry and why.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidInput


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("format", choices=["ifc"], help="what kind of file (ifc)")
    parser.add_argument("file", type=Path, help="the model file")
    parser.add_argument("--store", help="store URL (default from twinsync.toml or the default)")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--url", help="a running twinsync to upload to, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="with --url: an admin token (default: $TWINSYNC_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--kernel", help="geometry kernel for the GLB: manifold (default), "
                                         "opencascade, cgal-simple or cgal")
    parser.add_argument("--no-geometry", action="store_true",
                        help="do not export the GLB now (the server exports it when asked)")


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    data = args.file.read_bytes()
    if args.url:
        if args.kernel:
            raise InvalidInput("--kernel is for a local import: a running twinsync uses its "
                               "own geometry_kernel setting", "bad_option")
        report = _upload(args.url, args.file.name, data, args.token)
    else:
        settings = Settings.load(args.config, store=args.store, geometry_kernel=args.kernel)
        report = asyncio.run(_import(settings, args.file.name, data,
                                     geometry=not args.no_geometry))
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"imported {args.file.name} ({report['schema']}, revision {report['revision']}):"
          f" {len(report['added'])} added, {len(report['changed'])} changed,"
          f" {len(report['removed'])} archived, {report['unchanged']} unchanged,"
          f" {len(report['sensors_added'])} sensors added")
    if "geometry" in report:
        print(geometry_summary(report["geometry"]))
    return 0


def geometry_summary(geometry: dict[str, Any]) -> str:
    """One line per fact: how many elements each kernel drew, and each one missing."""
    kernels = ", ".join(f"{count} by {kernel}" for kernel, count in
                        sorted(geometry["by_kernel"].items()))
    lines = [f"geometry: {geometry['elements']} elements drawn ({kernels or 'none'}), "
             f"{len(geometry['missing'])} without geometry"]
    lines += [f"  {m['id']} {m['type']} {m['name']!r}: {m['reason']} ({m['detail']})"
              for m in geometry["missing"]]
    return "\n".join(lines)


def _upload(url: str, name: str, data: bytes, token: str | None) -> dict[str, Any]:
    import httpx

    from .token_cmd import bearer_header

    response = httpx.post(f"{url.rstrip('/')}/api/models", params={"name": name},
                          content=data, timeout=600.0,
                          headers={"content-type": "application/octet-stream",
                                   **bearer_header(token)})
    if response.status_code >= 400:
        body = response.json()
        raise InvalidInput(f"{body.get('error')}: {body.get('detail')}", "upload_failed")
    result: dict[str, Any] = response.json()
    return result


async def _import(settings: Settings, name: str, data: bytes, *,
                  geometry: bool) -> dict[str, Any]:
    from ..service import TwinService

    service = TwinService.open(settings.store, geometry=settings.geometry())
    try:
        report = await service.models.import_bytes(data, name=name)
        if geometry:
            await service.models.glb()
            report["geometry"] = service.models.geometry_report(report["revision"])
        return report
    finally:
        await service.aclose()
