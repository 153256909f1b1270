"""The built-in site simulator: believable readings for every sensor of a twin.

It stands in for a site's devices in the demo and in tests of the live path. Each sensor
kind has a small physical story: slab cores heat up as concrete hydrates and cool over
days, columns take strain as storeys above are built. Time in the story runs ``speed``
times faster than the wall clock so the demo moves; event times are the wall clock, so the
rest of twinsync sees an ordinary live source.

Rooms and the weather are the exception: they run on the wall clock itself. Each room is
a thermal zone (one resistance to the outdoors, one capacitance, ``physics.thermal``)
heated from 06:00 to 20:00 UTC by heating no sensor reads, and driven by the same outdoor
temperature the weather station reports. The twin's zone models are fitted to readings
by their time stamps: a room whose day passed in two and a half minutes would be a room
of a time constant of minutes, which no building is, and a room whose temperature had no
cause in the outdoors and its heating (a sine of its own) would be one no model fits
(every room of the demo was diverging from its model within minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from ..model import Binding, Sensor
from ..pipeline import IncomingBatch, RawReading
from .connector import ConnectorHealth, Delivery

DAY = 86_400.0


#: A room's heating, by the hour of the UTC day (heated from ``HEATING_FROM`` until
#: ``HEATING_UNTIL``), lifts its equilibrium this many kelvin above the outdoors.
HEATING_FROM, HEATING_UNTIL, HEATING_LIFT = 6.0, 20.0, 15.0
#: A room's step at most (seconds): the inputs are held over a step.
ROOM_STEP = 300.0


def outdoor_temperature(at: float) -> float:
    """The site's weather at wall-clock time ``at``: a daily swing of ±6 K round 11 °C,
    warmest at 15:00 UTC."""
    hour = (at % DAY) / 3600.0
    return 11.0 + 6.0 * math.sin(2 * math.pi * (hour - 9.0) / 24.0)


def heating_lift(at: float) -> float:
    """How far a room's heating lifts its equilibrium at ``at`` (K): on in working hours."""
    hour = (at % DAY) / 3600.0
    return HEATING_LIFT if HEATING_FROM <= hour < HEATING_UNTIL else 0.0


@dataclass(slots=True)
class _Track:
    sensor_id: str
    kind: str
    phase: float
    level: float
    seq: int = 0
    next_at: float = 0.0
    #: A room's air temperature (°C) at ``room_at`` (wall clock).
    room_temperature: float = math.nan
    room_at: float = 0.0

    @property
    def room_tau(self) -> float:
        """A room's time constant (s), from its phase: 20 to 80 h, light partitions to
        heavy concrete."""
        return 3600.0 * (20.0 + 60.0 * self.phase)


class SiteSimulator:
    """A Connector that invents readings for the given sensors."""

    def __init__(self, sensors: Iterable[Sensor], bindings: Mapping[str, Binding] | None = None,
                 *, name: str = "simulator", interval: float = 2.0, speed: float = 600.0,
                 seed: int = 7, tick: float = 0.25) -> None:
        self.name = name
        self.interval = interval
        self.speed = speed
        self.tick = tick
        self._random = random.Random(seed)
        bindings = bindings or {}
        self._tracks = []
        for sensor in sensors:
            binding = bindings.get(sensor.id)
            # What a sensor measures is best told by the property it feeds.
            story = binding.property if binding is not None else sensor.kind
            # Sensors on one element share its phase, so redundant loggers agree.
            phase = random.Random(binding.element_id if binding else sensor.id).random()
            self._tracks.append(_Track(sensor.id, story, phase, self._random.uniform(-0.5, 0.5)))
        self._started_at = 0.0
        self._closed = asyncio.Event()
        self._health = ConnectorHealth(name, "simulator")

    async def start(self) -> None:
        self._closed.clear()  # a supervisor may start it again after aclose()
        self._started_at = time.time()
        for track in self._tracks:
            track.next_at = self._started_at + self._random.uniform(0, self.interval)
        self._health.connected = True

    async def aclose(self) -> None:
        self._closed.set()
        self._health.connected = False

    def health(self) -> ConnectorHealth:
        self._health.details = {"sensors": len(self._tracks), "speed": self.speed}
        return self._health

    async def deliveries(self) -> AsyncIterator[Delivery]:
        while not self._closed.is_set():
            now = time.time()
            readings = []
            for track in self._tracks:
                if track.next_at <= now:
                    track.seq += 1
                    readings.append(RawReading(track.sensor_id, self.value(track, now),
                                               track.next_at, None, track.seq))
                    track.next_at += self.interval * self._random.uniform(0.9, 1.1)
            if readings:
                self._health.saw(len(readings))
                yield Delivery(IncomingBatch(readings, self.name, now, "simulator"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self.tick)

    def value(self, track: _Track, now: float) -> float:
        """The sensor's reading at wall-clock time ``now``, in its own unit."""
        story = (now - self._started_at) * self.speed + track.phase * DAY
        hour = (story % DAY) / 3600.0
        daily = math.sin(2 * math.pi * (hour - 9.0) / 24.0)
        noise = self._random.gauss(0.0, 1.0)
        if track.kind in ("core_temperature", "slab_temperature"):
            # Hydration heat: rises over ~a day after the pour, decays over several.
            age_days = (story / DAY) % 14.0 + 0.05
            heat = 28.0 * (age_days / 1.2) * math.exp(1.0 - age_days / 1.2)
            return round(12.0 + 4.0 * daily + heat + track.level + 0.15 * noise, 2)
        if track.kind == "air_temperature":
            return round(self.room(track, now) + 0.1 * noise, 2)
        if track.kind in ("relative_humidity", "humidity"):
            return round(55.0 - 9.0 * daily + 3 * track.level + 0.5 * noise, 1)
        if track.kind == "strain":
            load = min(story / (10 * DAY), 1.0)
            return round(120.0 + 380.0 * load + 20 * track.level + 2.0 * noise, 1)
        if track.kind in ("ambient_temperature", "temperature"):
            return round(outdoor_temperature(now) + 0.2 * noise, 2)
        return round(track.level + 0.1 * noise, 3)

    def room(self, track: _Track, now: float) -> float:
        """A room's air temperature at wall-clock time ``now`` (°C): the exact solution of
        ``C dT/dt = (T_out - T) / R + Φ`` stepped from its last reading, the outdoor
        temperature and the heating held over each step of at most ``ROOM_STEP``. A room
        starts at the day's mean of its equilibrium; its own gains (people, equipment, the
        sun on its side: ``level``) lift it by up to 2 K."""
        gains = 4.0 * track.level
        if math.isnan(track.room_temperature):
            heated = (HEATING_UNTIL - HEATING_FROM) / 24.0
            track.room_temperature = 11.0 + HEATING_LIFT * heated + gains
            track.room_at = now
        while track.room_at < now:
            step = min(ROOM_STEP, now - track.room_at)
            equilibrium = (outdoor_temperature(track.room_at) + heating_lift(track.room_at)
                           + gains)
            decay = math.exp(-step / track.room_tau)
            track.room_temperature = equilibrium + (track.room_temperature - equilibrium) * decay
            track.room_at += step
        return track.room_temperature
