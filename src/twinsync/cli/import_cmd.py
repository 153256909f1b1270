"""``twinsync import ifc FILE``: import a BIM model revision into a twin.

With ``--url`` the file is uploaded to a running twinsync (``POST /api/models``), so the
live twin updates at once; otherwise it is imported straight into the store, and its GLB
is exported at once with the geometry kernel of ``--kernel`` (or ``geometry_kernel`` in the
settings), so the dashboard finds it ready and the import says which elements have no
geometry and why. ``--dry-run`` says what the import would change and whether it would be
refused, changing nothing; ``--force`` imports a revision that is refused otherwise
(another project, or one archiving more than ``reimport_max_archive_share`` of the current
model).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ImportRefused, InvalidInput
from .upload import post_file, report_of


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("format", choices=["ifc"], help="what kind of file (ifc)")
    parser.add_argument("file", type=Path, help="the model file")
    parser.add_argument("--store", help="store URL (default from twinsync.toml or the default)")
    parser.add_argument("--config", help="TOML settings file")
    parser.add_argument("--url", help="a running twinsync to upload to, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", help="with --url: an admin token (default: $TWINSYNC_TOKEN)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--dry-run", action="store_true",
                        help="say what the import would change and whether it would be "
                             "refused; change nothing")
    parser.add_argument("--force", action="store_true",
                        help="import even a revision of another project, or one that archives "
                             "more than reimport_max_archive_share of the current model")
    parser.add_argument("--kernel", help="geometry kernel for the GLB: manifold (default), "
                                         "opencascade, cgal-simple or cgal")
    parser.add_argument("--no-geometry", action="store_true",
                        help="do not export the GLB now (the server exports it when asked)")


def run(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InvalidInput(f"no file {args.file}", "no_file")
    data = args.file.read_bytes()
    try:
        if args.url:
            if args.kernel:
                raise InvalidInput("--kernel is for a local import: a running twinsync uses "
                                   "its own geometry_kernel setting", "bad_option")
            report = _upload(args.url, args.file.name, data, args.token, force=args.force,
                             dry_run=args.dry_run)
        else:
            settings = Settings.load(args.config, store=args.store,
                                     geometry_kernel=args.kernel)
            report = asyncio.run(_import(settings, args.file.name, data, force=args.force,
                                         dry_run=args.dry_run,
                                         geometry=not args.no_geometry))
    except ImportRefused as exc:
        if args.json:
            print(json.dumps({"error": exc.reason, "detail": str(exc),
                              "refusals": exc.refusals, "counts": exc.counts}))
        print(f"twinsync: {args.file.name} was not imported: "
              + "; ".join(r["detail"] for r in exc.refusals)
              + ". Try --dry-run to see what would change, --force to import it anyway",
              file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report))
        return 0
    print(_summary(args.file.name, report))
    if "geometry" in report:
        print(geometry_summary(report["geometry"]))
    return 0


def _summary(name: str, report: dict[str, Any]) -> str:
    counts = report["counts"]
    lose = "would lose" if report.get("dry_run") else "lost"
    text = (f"{'dry run of' if report.get('dry_run') else 'imported'} {name} "
            f"({report['schema']}, revision {report['revision']}): {counts['added']} added,"
            f" {counts['changed']} changed, {counts['archived']} archived,"
            f" {counts['restored']} restored, {counts['unchanged']} unchanged,"
            f" {counts['sensors_added']} sensors added")
    if counts["sensors_unbound"]:
        text += (f"\n{counts['sensors_unbound']} sensors {lose} their element (archived):"
                 f" their readings are kept, unbound")
    if report.get("dry_run") and report["refusals"]:
        text += "\nit would be refused: " + "; ".join(r["detail"] for r in report["refusals"])
        text += " (--force imports it anyway)"
    elif report.get("forced"):
        text += f"\nforced past: {', '.join(report['forced'])}"
    return text


def geometry_summary(geometry: dict[str, Any]) -> str:
    """One line per fact: how many elements each kernel drew, and each one missing."""
    kernels = ", ".join(f"{count} by {kernel}" for kernel, count in
                        sorted(geometry["by_kernel"].items()))
    lines = [f"geometry: {geometry['elements']} elements drawn ({kernels or 'none'}), "
             f"{len(geometry['missing'])} without geometry"]
    lines += [f"  {m['id']} {m['type']} {m['name']!r}: {m['reason']} ({m['detail']})"
              for m in geometry["missing"]]
    return "\n".join(lines)


def _upload(url: str, name: str, data: bytes, token: str | None, *, force: bool,
            dry_run: bool) -> dict[str, Any]:
    params = {"name": name, "force": str(int(force)), "dry_run": str(int(dry_run))}
    target, status, body = post_file(url, "/api/models", params, data, token)
    if status >= 400 and body.get("error") == "import_refused":
        raise ImportRefused(str(body.get("detail")), body.get("refusals", []),
                            body.get("counts", {}))
    return report_of(url, target, status, body, "revision")


async def _import(settings: Settings, name: str, data: bytes, *, force: bool,
                  dry_run: bool, geometry: bool) -> dict[str, Any]:
    from ..service import TwinService

    service = TwinService.open(settings.store, geometry=settings.geometry())
    try:
        share = settings.reimport_max_archive_share
        if dry_run:
            return await service.models.plan_bytes(data, name=name, max_archive_share=share)
        report = await service.models.import_bytes(data, name=name, force=force,
                                                   max_archive_share=share)
        if geometry:
            await service.models.glb()
            report["geometry"] = service.models.geometry_report(report["revision"])
        return report
    finally:
        await service.aclose()
