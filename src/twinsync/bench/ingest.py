"""Readings per second through the whole pipeline into the store, for a fleet of N sensors.

Each batch goes the full reading path of ``TwinService.ingest``: validation, unit and
calibration transforms, commit to the store, live-state update. Two patterns:

- ``random`` (the default, the worst case for caches): each reading's sensor is drawn at
  random, so a batch of 10,000 readings over 100,000 sensors touches ~10,000 of them.
- ``gateway`` (how a site sends): sensors are grouped ``--per-gateway`` to a gateway, and
  a message carries one reading of each of one gateway's sensors; gateways come in random
  order.

Before the clock starts every sensor sends ``--warm-up`` readings (default 200), so that
health judges the timed readings as in a running fleet, and those are sealed. The figure
shows whether cost per reading grows with the fleet. Everything deferred (sealing hot
readings) is done inside the clock.

``--subscribers N`` measures the path with a dashboard open: the API is served (uvicorn,
on a free port, the service's own lifespan with its timers and live publisher) and N real
WebSocket clients in another process subscribe to every element; the figures then include
how long after its commit a change reached the clients (``commit_to_client_ms``).
``--subscribers 0`` serves the API with no client, the baseline to compare with.
``--rate R`` paces the readings at R a second instead of as fast as they go.
``--anomaly off`` runs the service with anomaly detection switched off (the
``anomaly_detection`` setting), the baseline of its cost. With the day as context the
anomaly detector learns a sensor's range over a whole day and tells scores once a whole
day of patterns is remembered; the bench's readings are stamped within minutes, so before
the clock each sensor's detector is taught the days before them (``ANOMALY_DAYS`` days, a
reading every ``ANOMALY_EVERY`` seconds, of the same random values; taught, not stored)
and the timed readings are scored as a fleet's past its first days are. Give
``--warm-up 400`` as before, so that every sensor's recent readings are those of its
warm-up.
``--fleet-events N`` sets the fleet's budget of anomaly events a window (the
``anomaly_fleet_events`` setting, 1,000 by default); a budget past the run's anomalies
tells them all, which measures what an anomaly event costs against one the budget counts.
``--models off`` likewise switches the twin's level/trend models off (the ``twin_models``
setting; their warm-up is 30 readings a sensor).

``--fleet rooms`` makes every sensor but one a room's air temperature (one ``IfcSpace``
each) and the last the site's outdoor temperature, read as often as a hundred rooms
together (every hundredth reading), so that every room is a thermal zone on the reading
path; ``--zones off`` switches the zones off (the ``zone_models`` setting), the baseline
of their cost. The rooms stand in corridors of ``CORRIDOR`` side by side, each naming the
rooms beside it in ``adjacent_spaces`` (as the IFC import writes it), so each zone takes
its neighbours' temperature as an input. The default fleet (``slabs``) has no zone.

``--values steady`` gives each sensor a level of its own (drawn between 15 and 25 once)
and each reading 0.05 of noise about it, as a room or a slab holds its temperature over
the minutes the bench spans; by default (``random``) every reading is drawn afresh between
15 and 25, the worst case for every model on the path: each room's zone sees a 3 K miss at
every reading, diverges and recalibrates over and over, and each episode is an event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from numpy.typing import NDArray

from ..analytics import AnomalyMonitor
from ..model import Binding, Element, PropertyValue, Sensor, Source, Transform
from ..pipeline import IncomingBatch, RawReading
from ..service import TwinService


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sensors", type=int, default=100, help="fleet size (default 100)")
    parser.add_argument("--readings", type=int, default=500_000,
                        help="readings to push (default 500,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="readings per batch")
    parser.add_argument("--store", default=None,
                        help="store URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--pattern", choices=PATTERNS, default="random",
                        help="which sensors a batch holds (default random)")
    parser.add_argument("--per-gateway", type=int, default=100,
                        help="sensors per gateway in the gateway pattern (default 100)")
    parser.add_argument("--warm-up", type=int, default=200, dest="warm_up",
                        help="readings per sensor before the clock starts (default 200)")
    parser.add_argument("--history", type=int, default=0,
                        help="readings stored before the clock starts, at least (default 0: "
                             "just the warm-up); give two fleets the same history to compare "
                             "them, as the store's cost depends on how much it holds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subscribers", type=int, default=None,
                        help="serve the API and subscribe N WebSocket clients to everything "
                             "(0: serve with none; default: no API)")
    parser.add_argument("--rate", type=float, default=None,
                        help="pace readings at this many a second (default: flat out)")
    parser.add_argument("--anomaly", choices=("on", "off"), default="on",
                        help="anomaly detection in the reading path (default on, as "
                             "twinsync serves; the anomaly_detection setting)")
    parser.add_argument("--fleet-events", type=int, default=None, dest="fleet_events",
                        help="anomaly events the fleet tells an hour (the "
                             "anomaly_fleet_events setting; default as twinsync serves, "
                             "1,000); a large one tells every anomaly, the cost of the "
                             "events the budget keeps")
    parser.add_argument("--models", choices=("on", "off"), default="on",
                        help="the twin's level/trend models in the reading path (default "
                             "on, as twinsync serves; the twin_models setting)")
    parser.add_argument("--fleet", choices=FLEETS, default="slabs",
                        help="slabs: four temperature loggers a slab (the default); rooms: "
                             "a room's air temperature a sensor and the site's outdoor one, "
                             "every room a thermal zone")
    parser.add_argument("--zones", choices=("on", "off"), default="on",
                        help="the thermal zones in the reading path (default on, as "
                             "twinsync serves; the zone_models setting)")
    parser.add_argument("--values", choices=VALUES, default="random",
                        help="random: each reading drawn afresh between 15 and 25 (the "
                             "default: every reading news to the models); steady: each "
                             "sensor holds its own level, drawn once, with 0.05 of noise, as "
                             "a room or slab does over the minutes the bench spans")
    parser.add_argument("--ws-compression", action="store_true", dest="ws_compression",
                        help="serve with WebSocket compression on (the ws_compression "
                             "setting; default off, as twinsync serves)")


PATTERNS = ("random", "gateway")
FLEETS = ("slabs", "rooms")
#: Rooms side by side in a corridor of a rooms fleet (the ends have one neighbour).
CORRIDOR = 10
VALUES = ("random", "steady")
#: A steady sensor's noise about its level (``--values steady``).
STEADY_NOISE = 0.05
#: In a rooms fleet, every this many readings one is the outdoor station's.
STATION_EVERY = 100
#: Batches submitted before the first is answered.
IN_FLIGHT = 3
#: The days before the bench's readings that each sensor's anomaly detector is taught,
#: a reading every so many seconds: the warm-up's day, a day of patterns, and to spare.
ANOMALY_DAYS, ANOMALY_EVERY = 2.5, 300.0
#: Sensors taught at a time (their readings are built as columns: 72 MB each time).
_TAUGHT_AT_ONCE = 5_000


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="twinsync-bench-") as folder:
        url = args.store or f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        return asyncio.run(_run(url, args.sensors, args.readings, args.batch, args.seed,
                                args.pattern, args.per_gateway, args.warm_up, args.history,
                                args.subscribers, args.rate, args.ws_compression,
                                args.anomaly == "on", args.models == "on",
                                args.fleet_events, args.fleet, args.zones == "on",
                                args.values))


class Values:
    """The value of each reading (``--values``): ``random``, drawn afresh between 15 and
    25; ``steady``, the sensor's own level (drawn between 15 and 25 once, for every
    sensor at the start) plus ``STEADY_NOISE``."""

    def __init__(self, kind: str, rng: random.Random, sensors: list[str]) -> None:
        self.kind = kind
        self.rng = rng
        # Drawn now, in the fleet's order: the same levels whatever runs on or off.
        self.levels = ({sensor: 15.0 + rng.random() * 10.0 for sensor in sensors}
                       if kind == "steady" else {})

    def __call__(self, sensor_id: str) -> float:
        if self.kind == "random":
            return 15.0 + self.rng.random() * 10.0
        return self.levels[sensor_id] + self.rng.gauss(0.0, STEADY_NOISE)

    def many(self, sensors: list[str], each: int, values: np.random.Generator
             ) -> NDArray[np.float64]:
        """``each`` values of every one of ``sensors``, one sensor after another."""
        if self.kind == "random":
            drawn: NDArray[np.float64] = 15.0 + values.random(len(sensors) * each) * 10.0
            return drawn
        levels = np.repeat([self.levels[sensor] for sensor in sensors], each)
        noisy: NDArray[np.float64] = levels + values.normal(0.0, STEADY_NOISE, levels.size)
        return noisy


def _sensor_order(ids: list[str], readings: int, rng: random.Random, pattern: str,
                  per_gateway: int, station: str | None = None) -> list[str]:
    """The sensor of each reading, in arrival order; with a ``station`` (a rooms fleet),
    every ``STATION_EVERY``-th reading is its."""
    if station is not None:
        rooms = [sensor for sensor in ids if sensor != station]
        return [station if k % STATION_EVERY == 0 else sensor
                for k, sensor in enumerate(_sensor_order(rooms, readings, rng, pattern,
                                                         per_gateway))]
    if pattern == "random":
        return rng.choices(ids, k=readings)
    gateways = [ids[first:first + per_gateway] for first in range(0, len(ids), per_gateway)]
    order: list[str] = []
    while len(order) < readings:
        order.extend(rng.choice(gateways))
    return order[:readings]


async def _warm_up(service: TwinService, ids: list[str], total: int, batch_size: int,
                   numbers: dict[str, int], value: Values,
                   station: str | None = None) -> None:
    """Outside the clock: the sensors send ``total`` readings first, in turns, so that their
    health detectors are past their learning phase (about 200 readings) as in a fleet that
    has been running. A sensor still learning is cheaper to judge, and with a large fleet
    each sensor gets only a few of the timed readings: without this the large fleet would be
    measured learning and the small one judging."""
    # Stamped from 700 to 310 s ago: fresh on arrival, and older than every timed reading.
    start, step = time.time() - 700.0, 390.0 / max(total, 1)
    for first in range(0, total, batch_size):
        batch = []
        for k in range(first, min(first + batch_size, total)):
            sensor_id = (station if station is not None and k % STATION_EVERY == 0
                         else ids[k % len(ids)])
            numbers[sensor_id] += 1
            batch.append(RawReading(sensor_id, value(sensor_id), start + k * step,
                                    None, numbers[sensor_id]))
        await service.ingest(IncomingBatch(batch, "bench", time.time(), "bench"))
    await asyncio.to_thread(service.store.seal)


async def _anomaly_days_before(service: TwinService, ids: list[str], rng: random.Random,
                               value: Values) -> int:
    """Outside the clock: teach each sensor's anomaly detector its ``ANOMALY_DAYS`` days
    before the warm-up, a reading every ``ANOMALY_EVERY`` seconds of the bench's values
    (``value``), on the writer (the reading path's own detector and rows). Without them
    every reading of the bench would fall in the detector's day-long warm-up, which scores
    nothing, and the cost of scoring would not be measured. Returns the readings taught."""
    # Drawn whether or not detection is on: the runs on and off get the same readings.
    values = np.random.default_rng(rng.getrandbits(32))
    if not service.anomalies.enabled:
        return 0
    each = int(ANOMALY_DAYS * 86_400.0 / ANOMALY_EVERY)
    # Ending where the warm-up's readings begin (``_warm_up``: 700 s ago).
    times = time.time() - 700.0 - ANOMALY_EVERY * np.arange(each, 0, -1.0)
    rows_of = service.pipeline.table.index
    detector = service.anomalies.monitor.detector
    for first in range(0, len(ids), _TAUGHT_AT_ONCE):
        taught = ids[first:first + _TAUGHT_AT_ONCE]
        rows = np.array([rows_of[sensor] for sensor in taught], dtype=np.int64)
        # Each sensor's readings in time order, one sensor after another.
        readings = {"time": np.tile(times, rows.size),
                    "value": value.many(taught, each, values)}
        await service.writer.write(lambda rows=rows, readings=readings:
                                   detector.learn_many(np.repeat(rows, each), readings))
    return each * len(ids)


def _stamped_live(batches: list[list[RawReading]], rate: float,
                  batch_size: int) -> list[list[RawReading]]:
    """Paced readings stamped as a live fleet sends them: each batch at the moment it
    is due (half a second before, as a gateway sends what it has gathered), not squeezed
    into the last five minutes. Squeezed, a paced run's event time runs ahead of the wall
    clock, every sensor looks silent to the periodic health check in between, and each
    batch would carry thousands of stale → ok health changes no live fleet sends."""
    began = time.time() + 0.1  # the clock starts right after this returns
    return [[reading._replace(time=began - 0.5 + (number * batch_size + k) / rate)
             for k, reading in enumerate(batch)] for number, batch in enumerate(batches)]


def rooms_fleet(sensors: int) -> tuple[list[Element], list[Sensor], list[Binding]]:
    """``sensors - 1`` rooms with an air temperature sensor each, under one site whose
    outdoor sensor (``outdoor``, the last) is every room's outdoor input: every room a
    thermal zone, beside the rooms next to it in its corridor (``CORRIDOR`` rooms)."""
    rooms = max(sensors - 1, 1)

    def beside(i: int) -> dict[str, PropertyValue]:
        others = [f"r{j}" for j in (i - 1, i + 1)
                  if 0 <= j < rooms and j // CORRIDOR == i // CORRIDOR]
        return {"adjacent_spaces": PropertyValue(others, "", 0.0, Source.BIM, 1.0)}

    elements = [Element("site", "IfcSite"),
                *(Element(f"r{i}", "IfcSpace", parent="site", properties=beside(i))
                  for i in range(rooms))]
    registered = [Sensor(f"s{i}", "temperature", "degC", expected_interval=60.0)
                  for i in range(rooms)]
    registered.append(Sensor("outdoor", "temperature", "degC", expected_interval=60.0))
    bindings = [Binding(f"s{i}", f"r{i}", "air_temperature") for i in range(rooms)]
    bindings.append(Binding("outdoor", "site", "ambient_temperature"))
    return elements, registered, bindings


def fleet(sensors: int) -> tuple[list[Element], list[Sensor], list[Binding]]:
    elements = [Element(f"e{i}", "IfcSlab") for i in range((sensors + 3) // 4)]
    fleet = [Sensor(f"s{i}", "temperature", "degC", expected_interval=60.0)
             for i in range(sensors)]
    # A calibration on every binding, so the transform is part of the measured path.
    bindings = [Binding(s.id, f"e{i // 4}", f"t{i % 4}", Transform(1.01, -0.2, "degC"))
                for i, s in enumerate(fleet)]
    return elements, fleet, bindings


async def _run(url: str, sensors: int, readings: int, batch_size: int, seed: int,
               pattern: str = "random", per_gateway: int = 100,
               warm_up: int = 200, history: int = 0, subscribers: int | None = None,
               rate: float | None = None, ws_compression: bool = False,
               anomaly: bool = True, models: bool = True,
               fleet_events: int | None = None, fleet_kind: str = "slabs",
               zones: bool = True, values: str = "random") -> dict[str, Any]:
    rng = random.Random(seed)
    monitor = None if fleet_events is None else AnomalyMonitor(fleet_events=fleet_events)
    service = TwinService.open(url, anomaly_detection=anomaly, twin_models=models,
                               anomaly_monitor=monitor, zone_models=zones)
    try:
        elements, registered, bindings = (rooms_fleet if fleet_kind == "rooms"
                                          else fleet)(sensors)
        station = "outdoor" if fleet_kind == "rooms" else None
        await service.import_project(elements, registered, bindings, source="bench")
        ids = [s.id for s in registered]
        numbers = dict.fromkeys(ids, 0)
        value = Values(values, rng, ids)
        taught = await _anomaly_days_before(service, ids, rng, value)
        warmed = max(warm_up * sensors, history)
        await _warm_up(service, ids, warmed, batch_size, numbers, value, station)
        # Live readings: stamped over the last five minutes, so all are fresh (within the
        # freshness bound) and each one goes the whole way: health, live state, deltas.
        # Each sensor numbers its own readings, as a device does.
        start_time = time.time() - 300.0
        step = 300.0 / readings
        # Build the inputs before the clock starts: decoding payloads is the connectors' cost.
        chosen = _sensor_order(ids, readings, rng, pattern, per_gateway, station)
        batches = []
        for first in range(0, readings, batch_size):
            batch = []
            for k, sensor_id in enumerate(chosen[first:first + batch_size]):
                numbers[sensor_id] += 1
                # A new string per reading, as decoding a payload makes one: readings
                # sharing the registry's own id objects would find them in the CPU cache
                # for a small fleet only, which is not how readings arrive.
                batch.append(RawReading(sensor_id.encode().decode(), value(sensor_id),
                                        start_time + (first + k) * step, None,
                                        numbers[sensor_id]))
            batches.append(batch)
        served = (None if subscribers is None
                  else await Served.start(service, subscribers, ws_compression))
        if rate:
            batches = _stamped_live(batches, rate, batch_size)
        stages = _time_stages(service)
        accepted = 0
        began = time.perf_counter()
        # A few batches in flight, as from several sources at once: the writer always has
        # the next one waiting, and the event loop's other work (sending to subscribers)
        # does not leave it idle.
        in_flight: list[asyncio.Task[Any]] = []
        for number, readings_of_batch in enumerate(batches):
            if rate:  # paced: each batch leaves when its readings are due
                due = began + number * batch_size / rate - time.perf_counter()
                if due > 0:
                    await asyncio.sleep(due)
            in_flight.append(asyncio.ensure_future(service.ingest(
                IncomingBatch(readings_of_batch, "bench", time.time(), "bench"))))
            if len(in_flight) >= IN_FLIGHT:
                accepted += (await in_flight.pop(0)).accepted
        for task in in_flight:
            accepted += (await task).accepted
        # Deferred work counts: everything still hot is sealed inside the clock.
        sealing = time.perf_counter()
        await asyncio.to_thread(service.store.seal)
        final_seal = time.perf_counter() - sealing
        elapsed = time.perf_counter() - began
        stored_counts = service.store.counts()
        stored = stored_counts["readings"]
        anomalies = _anomaly_counts(service)
        counts = dict(service.pipeline.counts)
        clients = None if served is None else await served.stop()
    finally:
        await service.aclose()
    if accepted != readings or stored != readings + warmed:
        raise RuntimeError(f"lost readings: pushed {readings} after {warmed} to warm up, "
                           f"accepted {accepted}, stored {stored}")
    if counts["stale"] or counts["late"] or counts["duplicates"]:
        # Such readings skip health and the live state: the figure would flatter the path.
        raise RuntimeError(f"not every reading went the whole path: {counts}")
    return {
        "sensors": sensors,
        "pattern": pattern if pattern == "random" else f"gateway/{per_gateway}",
        "readings": readings,
        "batch": batch_size,
        "warm_up_per_sensor": warm_up,
        # Readings of the days before taught to the anomaly detector (not stored).
        "anomaly_taught_before": taught,
        "history_before": warmed,
        "store": url.split(":", 1)[0],
        "seconds": round(elapsed, 3),
        "readings_per_second": round(readings / elapsed),
        "microseconds_per_reading": round(elapsed / readings * 1e6, 2),
        # Where the seconds went: each stage of the reading path, and the final seal.
        # Seals during the run sort in a background thread; a commit that waits for a
        # seal's write counts in "store".
        "stage_seconds": {**{k: round(v, 3) for k, v in stages.items()},
                          "final_seal": round(final_seal, 3)},
        "paced_rate": rate,
        "subscribers": subscribers,
        "ws_compression": ws_compression,
        "anomaly": "on" if anomaly else "off",
        "fleet_events": service.anomalies.monitor.fleet_events,
        "models": "on" if models else "off",
        "fleet": fleet_kind,
        "zones": "on" if zones else "off",
        "values": values,
        "zones_modelled": len(service.zones.zones) if zones else 0,
        # Divergence episodes the zones started, warm-up included (each one an event, an
        # alarm and a recalibration).
        "zone_episodes": int(service.zones.bank.columns["episodes"].sum()) if zones else 0,
        # Events of the whole run (warm-up included): anomaly and health events, alarms.
        "events": stored_counts["events"],
        # Of them anomaly events, the anomalies kept untold (quiet time, fleet budget), storms.
        "anomaly_events": anomalies,
        **({"clients": clients} if clients is not None else {}),
    }


def _anomaly_counts(service: TwinService) -> dict[str, int]:
    """The run's anomaly events (warm-up included), the anomalies not told as events
    (their sensor's quiet time or the fleet's budget: each event says how many of its
    sensor's went untold before it, and each sensor's row how many since its last), and
    the fleet's storms (windows whose budget kept anomalies; each tells its count again
    at most once a minute, ``storm_events``). Read after the clock."""
    told = untold = 0
    after = 0
    while page := service.store.events(kind="anomaly", after=after, limit=10_000):
        told += len(page)
        untold += sum(int(e.data.get("untold", 0)) for e in page)
        after = page[-1].seq or 0
    untold += int(service.anomalies.monitor.untold.sum())
    storm_events = service.store.events(kind="anomaly_storm", limit=100_000)
    storms = len({e.data.get("since") for e in storm_events})
    return {"told": told, "untold": untold, "storms": storms,
            "storm_events": len(storm_events)}


class Served:
    """The API served on a free port, with ``clients`` WebSocket subscribers in a process
    of their own (``ws_clients``)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None],
                 process: asyncio.subprocess.Process | None) -> None:
        self.server, self.task, self.process = server, task, process

    @classmethod
    async def start(cls, service: TwinService, clients: int,
                    compression: bool = False) -> Served:
        from ..api.app import create_app
        from ..config import Settings

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        settings = Settings(store=service.store.url, ws_compression=compression)
        app = create_app(settings, service=service)
        server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=1 << 24,
            ws_per_message_deflate=settings.ws_compression))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        process = None
        if clients:
            from ..cli.token_cmd import create_token
            from ..tokens import Role

            token, _ = await asyncio.to_thread(create_token, service.store.url, "bench",
                                               Role.VIEWER, days=1.0)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "twinsync.bench.ws_clients",
                f"ws://127.0.0.1:{port}/ws", str(clients),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "TWINSYNC_TOKEN": token})
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            if line.strip() != b"ready":
                raise RuntimeError(f"the WebSocket clients did not start: {line!r}")
        return cls(server, task, process)

    async def stop(self) -> dict[str, Any] | None:
        """Let the last changes reach the clients, then collect their figures."""
        figures = None
        if self.process is not None:
            await asyncio.sleep(0.5)
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.close()
            out = await asyncio.wait_for(self.process.stdout.read(), timeout=60)
            await self.process.wait()
            figures = json.loads(out.decode().strip().splitlines()[-1])
        self.server.should_exit = True
        await self.task
        return figures


#: Stages of ``TwinService`` ingest to time: (label, attribute path of the object, method).
STAGES = (("accept", "pipeline", "accept"), ("health", "health", "update_many"),
          ("anomaly", "anomalies", "savepoint"), ("anomaly", "anomalies", "score"),
          ("models", "twin_models", "savepoint"), ("models", "twin_models", "step"),
          ("zones", "zones", "savepoint"), ("zones", "zones", "step"),
          ("store", "store", "commit"),
          ("apply", "pipeline", "apply"))


def _time_stages(service: TwinService) -> dict[str, float]:
    """Wrap each stage's method on its instance to add up the seconds spent in it."""
    spent: dict[str, float] = {}
    for label, owner_name, method_name in STAGES:
        owner = getattr(service, owner_name, None)
        method = getattr(owner, method_name, None)
        if method is None:
            continue
        spent[label] = 0.0

        def timed(*args: Any, _method: Any = method, _label: str = label, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[_label] += time.perf_counter() - began

        try:
            setattr(owner, method_name, timed)
        except AttributeError:  # a slotted class: not timed
            del spent[label]
    return spent
