"""``twinsync bench zones``: how well the thermal zones on the reading path learn R and C,
and what a zone reading costs as the number of zones grows.

Both parts run the live service (a SQLite store in a temporary folder) and send sensor
readings through ``ingest``, as a gateway would:

- calibration: ``--zones`` spaces under one building (R 2-10 K/kW, C 5-30 kWh/K, as
  ``bench twin``), each with an air temperature sensor (noise 0.05 K) and a heating meter
  (0, 2 or 4 kW for 2 to 8 h at a time), and the site's outdoor sensor (a daily swing of
  ±8 °C round a wandering 5 °C), every 15 minutes for ``--days`` days, a batch an hour.
  Reported: the median and worst error (%) of R, C and R·C at the end, and the first day
  after which every zone's R and C stay within 2 %.
- cost: ``--sizes`` twins of that many zones; ``--slots`` readings of each sensor, a batch
  an hour; microseconds the zone step takes per zone reading (its own clock,
  ``ZoneDesk.seconds``), after a first day that is not timed; and microseconds a property
  of the live delta takes to build (``Publisher.changes_of`` over every sensor: the
  fused value with its field and model sources), the best of 20.
- beside a fresh sensor, then a silent room: on the calibration site, every room's model
  share and standard deviation in its fused air temperature and how far that is from the
  reading; then room 0's air sensor falls silent after ``--days``
  (its heating and the outdoor sensor read on): its fused air temperature, carried by the
  zone's extrapolation, against its simulated reading 4, 8, 12 and 24 h later, with the
  uncertainty shown.

``--room-upload-hours 6``: the room loggers keep their readings and upload them every six
hours, a batch a minute after the last of them (the station and the meters still send a
batch an hour): the calibration and the cost for readings that come late, stepped with the
inputs of their own time (the silent room is read as live either way).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..model import Binding, Element, Sensor
from ..physics.simulate import zone_weather
from ..physics.thermal import ThermalZone
from ..pipeline import IncomingBatch, RawReading
from ..service import TwinService

STEP = 900.0
DT = STEP / 3600
START = 1_767_225_600.0  # 2026-01-01
PER_BATCH = 4  # slots: a batch an hour
DELTA_ROUNDS = 20
SILENT_HOURS = (4, 8, 12, 24)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small runs (a few seconds)")
    parser.add_argument("--zones", type=int, default=20, help="zones calibrated (default 20)")
    parser.add_argument("--days", type=int, default=7, help="days of readings (default 7)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000],
                        help="zone counts for the cost (default 10 100 1000)")
    parser.add_argument("--slots", type=int, default=48,
                        help="readings of each sensor timed for the cost (default 48)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--room-upload-hours", type=int, default=0,
                        help="room loggers upload every N hours (default 0: with the rest)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        args.zones, args.days, args.sizes, args.slots = 4, 4, [10, 100], 16
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "room_upload_hours": args.room_upload_hours,
        "calibration": asyncio.run(calibration(args.zones, args.days, args.seed,
                                               args.room_upload_hours)),
    }
    figures["beside_a_fresh_sensor"], figures["silent_room"] = asyncio.run(
        silent_room(args.zones, args.days, args.seed))
    costs = {str(size): asyncio.run(cost(size, args.slots, args.seed, args.room_upload_hours))
             for size in args.sizes}
    figures["cost_us_a_zone_reading"] = {size: step for size, (step, _) in costs.items()}
    figures["delta_us_a_property"] = {size: delta for size, (_, delta) in costs.items()}
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


class Site:
    """Simulated zones of known R and C under one outdoor temperature."""

    def __init__(self, zones: int, slots: int, seed: int, room_upload_hours: int = 0) -> None:
        #: Slots a room logger keeps before it uploads (0: sent with the rest).
        self.room_upload = room_upload_hours * round(1 / DT)
        self.held: list[RawReading] = []
        rng = np.random.default_rng(seed)
        self.resistance = rng.uniform(2.0, 10.0, zones)
        self.capacitance = rng.uniform(5.0, 30.0, zones)
        outdoor, self.heating = zone_weather(rng, zones, slots, DT)
        self.outdoor = outdoor[0]
        model = ThermalZone()
        state = model.state(np.full(zones, 18.0), self.resistance, self.capacitance)
        self.rooms = np.empty((zones, slots))
        for k in range(slots):
            self.rooms[:, k] = state[:, 0]
            inputs = np.column_stack([np.full(zones, self.outdoor[k]), self.heating[:, k]])
            state = model.step(state, DT, inputs)
        self.rooms += rng.normal(0, 0.05, self.rooms.shape)

    @property
    def zones(self) -> int:
        return int(self.resistance.size)

    async def open(self, folder: str, clock: Callable[[], float] = time.time) -> TwinService:
        service = TwinService.open(f"sqlite:///{Path(folder) / 'zones.sqlite'}",
                                   anomaly_detection=False, twin_models=False, clock=clock)
        elements = [Element("site", "IfcSite"), Element("block", "IfcBuilding", parent="site")]
        sensors = [Sensor("weather", "temperature", "degC", STEP)]
        bindings = [Binding("weather", "site", "ambient_temperature")]
        for z in range(self.zones):
            elements.append(Element(f"room-{z}", "IfcSpace", parent="block"))
            sensors += [Sensor(f"room-{z}-t", "air_temperature", "degC", STEP),
                        Sensor(f"room-{z}-kw", "power", "kW", STEP)]
            bindings += [Binding(f"room-{z}-t", f"room-{z}", "air_temperature"),
                         Binding(f"room-{z}-kw", f"room-{z}", "heating_power")]
        await service.import_project(elements, sensors, bindings)
        return service

    async def feed(self, service: TwinService, slots: range, silent: int = -1,
                   clock: list[float] | None = None) -> None:
        """Every sensor's readings of ``slots``, a batch an hour; room ``silent``'s air
        sensor sends none; ``clock`` (the service's, if given) moves with the batches and
        the health timer runs after each."""
        for first in range(slots.start, slots.stop, PER_BATCH):
            last = min(first + PER_BATCH, slots.stop)
            readings = []
            for k in range(first, last):
                at = START + k * STEP
                readings.append(RawReading("weather", float(self.outdoor[k]), at))
                rooms: list[RawReading] = []
                for z in range(self.zones):
                    if z != silent:
                        rooms.append(RawReading(f"room-{z}-t", float(self.rooms[z, k]), at))
                    readings.append(RawReading(f"room-{z}-kw", float(self.heating[z, k]), at))
                (self.held if self.room_upload else readings).extend(rooms)
            await service.ingest(IncomingBatch(readings, "bench", START + last * STEP))
            if self.held and (last % self.room_upload == 0 or last == slots.stop):
                await service.ingest(IncomingBatch(self.held, "logger",
                                                   START + last * STEP + 60.0))
                self.held = []
            if clock is not None:
                clock[0] = START + last * STEP
                await service.watch.check()


def _errors(service: TwinService, site: Site) -> tuple[np.ndarray, np.ndarray]:
    desk = service.zones
    rows = np.array([desk.index[f"room-{z}"] for z in range(site.zones)])
    x = desk.bank.columns["x"][rows]
    return (100 * np.abs(np.exp(x[:, 1]) / site.resistance - 1),
            100 * np.abs(np.exp(x[:, 2]) / site.capacitance - 1))


async def calibration(zones: int, days: int, seed: int, room_upload_hours: int = 0
                      ) -> dict[str, Any]:
    slots = int(days * 24 / DT)
    site = Site(zones, slots, seed, room_upload_hours)
    within_since: int | None = None
    with tempfile.TemporaryDirectory() as folder:
        service = await site.open(folder)
        try:
            for day in range(days):
                await site.feed(service, range(day * 96, (day + 1) * 96))
                r, c = _errors(service, site)
                inside = bool(max(r.max(), c.max()) < 2.0)
                within_since = (within_since or day + 1) if inside else None
            r, c = _errors(service, site)
            x = service.zones.bank.columns["x"]
            rows = np.array([service.zones.index[f"room-{z}"] for z in range(zones)])
            tau = 100 * np.abs(np.exp(x[rows, 1] + x[rows, 2])
                               / (site.resistance * site.capacitance) - 1)
        finally:
            await service.aclose()
    return {"zones": zones, "days": days, "readings_every_min": 15,
            "r_error_pct_median": round(float(np.median(r)), 3),
            "r_error_pct_max": round(float(r.max()), 3),
            "c_error_pct_median": round(float(np.median(c)), 3),
            "c_error_pct_max": round(float(c.max()), 3),
            "tau_error_pct_max": round(float(tau.max()), 3),
            "all_within_2pct_from_day": within_since}


async def silent_room(zones: int, days: int, seed: int
                      ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every room's fused air temperature after ``days`` beside its fresh sensor (the
    model's share and standard deviation, the value's distance from the reading); then
    room 0's air sensor silent, its heating and the outdoor sensor read on: its fused air
    temperature (the zone's extrapolation) against its simulated reading at each of
    ``SILENT_HOURS``."""
    slots = int(days * 24 / DT)
    site = Site(zones, slots + int(max(SILENT_HOURS) / DT), seed)
    clock = [START]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        service = await site.open(folder, clock=lambda: clock[0])
        try:
            await site.feed(service, range(slots), clock=clock)
            rooms = [f"room-{z}" for z in range(zones)]
            fresh = [snapshot["properties"]["air_temperature"] for snapshot in
                     await service.view(service.elements_snapshot, rooms)]
            share = np.array([f["weights"].get("prediction", 0.0) for f in fresh])
            model_sd = np.array([f["model"]["uncertainty"] for f in fresh])
            off = np.abs([f["value"] - float(site.rooms[z, slots - 1])
                          for z, f in enumerate(fresh)])
            beside = {"model_share_min": round(float(share.min()), 3),
                      "model_share_max": round(float(share.max()), 3),
                      "model_sd_k_median": round(float(np.median(model_sd)), 4),
                      "off_the_reading_k_max": round(float(off.max()), 4)}
            done = slots
            for hours in SILENT_HOURS:
                upto = slots + int(hours / DT)
                await site.feed(service, range(done, upto), silent=0, clock=clock)
                done = upto
                snapshot = await service.view(service.element_snapshot, "room-0")
                fused = snapshot["properties"]["air_temperature"]
                error = abs(fused["value"] - float(site.rooms[0, upto - 1]))
                spread = fused["uncertainty"]
                rows.append({"hours": hours, "weights": fused["weights"],
                             "error_k": round(error, 3), "uncertainty_k": round(spread, 3),
                             "error_in_uncertainties": round(error / spread, 2)})
        finally:
            await service.aclose()
    return beside, rows


async def cost(zones: int, slots: int, seed: int, room_upload_hours: int = 0
               ) -> tuple[float, float]:
    """Microseconds of the zone step a zone reading, and of building the live delta of a
    property (its fused value, with the zone's prediction among its sources) when every
    sensor of the site has read: the best of ``DELTA_ROUNDS``, on the writer."""
    site = Site(zones, 96 + slots, seed, room_upload_hours)
    with tempfile.TemporaryDirectory() as folder:
        service = await site.open(folder)
        try:
            await site.feed(service, range(96))
            service.zones.seconds = 0.0
            await site.feed(service, range(96, 96 + slots))
            seconds = service.zones.seconds
            rows = np.arange(len(service.pipeline.table), dtype=np.int64)

            def build() -> float:
                began = time.perf_counter()
                service.publisher.changes_of(rows)
                return time.perf_counter() - began

            delta = min([await service.view(build) for _ in range(DELTA_ROUNDS)])
        finally:
            await service.aclose()
    properties = 2 * zones + 1
    return round(1e6 * seconds / (zones * slots), 2), round(1e6 * delta / properties, 2)
