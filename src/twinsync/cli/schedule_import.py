"""``twinsync schedule import FILE``: import a P6 XER, MS Project XML (MSPDI), IFC (its
work schedule) or CSV file as the twin's schedule.

With ``--url`` the file is uploaded to a running twinsync (``POST /api/schedules``, an
admin's token); otherwise it is imported straight into the store (the twin must not be
running on it). Each import is a new version: progress entered in the twin, element
links and link rules are kept by activity code, and the report says what was kept and
which activities left. A schedule of another project than the twin's is refused unless
``--force``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import InvalidInput
from .upload import post_file, report_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the XER, MS Project XML, IFC or CSV file")
    parser.add_argument("--project", help="the project (XER: id or short name; IFC: the work "
                                          "schedule), when the file holds several")
    parser.add_argument("--store", help="store URL (default from twinsync.toml or the default)")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--url", help="a running twinsync to upload to, e.g. "
                                      "http://127.0.0.1:8000")
    parser.add_argument("--token", help="with --url: an admin token (default: $TWINSYNC_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--force", action="store_true",
                        help="import a schedule of another project than the twin's")
    parser.set_defaults(run_schedule=run)


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    data = args.file.read_bytes()
    if args.url:
        report = _upload(args.url, args.file.name, data, args.token, args.project, args.force)
    else:
        settings = Settings.load(args.config, store=args.store)
        report = asyncio.run(_import(settings.store, args.file.name, data, args.project,
                                     args.force))
    if args.json:
        print(json.dumps(report))
    else:
        print(summary(args.file.name, report))
    return 0


def summary(name: str, report: dict[str, Any]) -> str:
    kept = report["kept"]
    text = (f"imported {name} as version {report['version']} of the schedule "
            f"({report['project']}, data date {report['data_date']}): "
            f"{report['activities']} activities, {report['relationships']} relationships; "
            f"{report['added']} added, {report['removed']} removed; kept progress of "
            f"{kept['progress']}, links of {kept['links']}, {kept['rules']} link rules")
    orphaned = report["orphaned"]
    if orphaned["progress"] or orphaned["links"]:
        text += ("\nactivities no longer in the schedule keep their progress and links, "
                 f"unused: {', '.join(sorted({*orphaned['progress'], *orphaned['links']}))}")
    for warning in report["warnings"]:
        text += f"\nwarning: {warning}"
    return text


def _upload(url: str, name: str, data: bytes, token: str | None, project: str | None,
            force: bool) -> dict[str, Any]:
    params = {"name": name, "force": str(int(force)),
              **({"project": project} if project else {})}
    target, status, body = post_file(url, "/api/schedules", params, data, token)
    return report_of(url, target, status, body, "version")


async def _import(url: str, name: str, data: bytes, project: str | None, force: bool
                  ) -> dict[str, Any]:
    from ..service import TwinService

    service = TwinService.open(url)
    try:
        return await service.schedules.import_bytes(data, name=name, project=project,
                                                    force=force)
    finally:
        await service.aclose()
