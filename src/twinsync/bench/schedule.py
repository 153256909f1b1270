"""``twinsync bench schedule``: import and schedule a generated P6 network of N activities.

Generates an XER file (``schedule.generate``: three calendars with holidays, every
relationship type, lags, constraints, progress), then times reading it and scheduling it
(forward and backward pass, floats, longest path); each is the best of ``--repeat`` runs.
Then the same file goes into a twin (a fresh SQLite store in a temporary folder): the
import as ``POST /api/schedules`` runs it (read, store, commit), and the analysis behind
``GET /api/schedule`` as of the data date (the critical path with the twin's progress,
planned vs actual and earned value of every activity and WBS node).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from ..schedule import schedule_cpm
from ..schedule.calendar import format_date
from ..schedule.generate import generate_xer
from ..schedule.xer import read_xer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--activities", type=int, default=4000,
                        help="activities in the network (default 4000)")
    parser.add_argument("--relationships", type=int, default=6000,
                        help="relationships in the network (default 6000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step (default 3)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = generate_xer(args.activities, args.relationships, seed=args.seed)
    reads, runs = [], []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        schedule = read_xer(data)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        result = schedule_cpm(schedule)
        runs.append(time.perf_counter() - started)
    twin_import, twin_view = asyncio.run(_in_a_twin(data, max(1, args.repeat)))
    return {
        "activities": len(schedule.activities), "relationships": len(schedule.relationships),
        "calendars": len(schedule.calendars), "xer_bytes": len(data),
        "import_s": round(min(reads), 4), "cpm_s": round(min(runs), 4),
        "critical": sum(a.critical for a in result.activities),
        "longest_path": sum(a.longest_path for a in result.activities),
        "project_finish": format_date(result.project_finish),
        "twin_import_s": round(twin_import, 4), "twin_view_s": round(twin_view, 4),
    }


async def _in_a_twin(data: bytes, repeat: int) -> tuple[float, float]:
    """Seconds to import the file into a twin, and (best of ``repeat``) to analyse it."""
    from ..service import TwinService

    with tempfile.TemporaryDirectory() as folder:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'twin.sqlite'}")
        try:
            started = time.perf_counter()
            await service.schedules.import_bytes(data, name="bench.xer")
            imported = time.perf_counter() - started
            views = []
            for _ in range(repeat):
                started = time.perf_counter()
                await service.schedules.overview(service.plan.current().data_date)
                views.append(time.perf_counter() - started)
        finally:
            await service.aclose()
    return imported, min(views)
