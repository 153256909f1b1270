"""Cost of a field measurement sent again with its id, on an element with a long history.

A phone that lost the answer sends a measurement again under the same id; the writer looks
up the first sending's event before anything else runs (``service/measurements.py``),
with ingest waiting behind it. This stores ``--history`` earlier changes of one element
(as PATCHes of its properties leave them), records one measurement with an id, and times
``--retries`` sendings of it again through ``record_once``: milliseconds each (best and
median), and whether each was answered with the first event.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from typing import Any

from ..model import Binding, Element, Event, Sensor
from ..service import TwinService
from ..service.measurements import record_once

#: Events written per transaction while the history is built.
CHUNK = 1_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--history", type=int, default=100_000,
                        help="earlier property changes of the element")
    parser.add_argument("--retries", type=int, default=20, help="sendings timed")
    parser.add_argument("--store", default=None,
                        help="store URL (default: a fresh SQLite file)")


async def _measure(args: argparse.Namespace, url: str) -> dict[str, Any]:
    service = TwinService.open(url)
    try:
        await service.import_project([Element("wall", "IfcWall")],
                                     [Sensor("logger", "temperature", "degC", 60.0)],
                                     [Binding("logger", "wall", "core_temperature")])
        now = time.time()
        for first in range(0, args.history, CHUNK):
            service.store.save_changes([
                Event("property_changed", now, "wall", "manual",
                      {"property": "note", "value": f"change {i}", "by": "bench"})
                for i in range(first, min(args.history, first + CHUNK))])
        body = {"property": "core_temperature", "value": 19.5, "unit": "degC",
                "uncertainty": 0.3, "id": "phone-7/0001"}
        recorded = await record_once(service, "wall", body)
        seconds = []
        answered = 0
        for _ in range(args.retries):
            start = time.perf_counter()
            retry = await record_once(service, "wall", body)
            seconds.append(time.perf_counter() - start)
            answered += retry.replayed and retry.event == recorded.event
    finally:
        await service.aclose()
    return {"history": args.history, "retries": args.retries,
            "retry_ms_best": round(min(seconds) * 1e3, 3),
            "retry_ms_median": round(statistics.median(seconds) * 1e3, 3),
            "answered_with_first": answered}


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        url = args.store or f"sqlite:///{directory}/twin.sqlite"
        return asyncio.run(_measure(args, url))
