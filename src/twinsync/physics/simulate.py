"""What simulated thermal zones are driven by, in ``twinsync bench twin`` and the tests:
weather and heating as a site sees them, for models whose parameters are known."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def zone_weather(rng: np.random.Generator, zones: int, steps: int, dt: float
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(outdoor °C, heating kW), each [zones, steps] at ``dt`` hours: a daily swing of
    ±8 °C round a slowly wandering mean of 5 °C, heating switched between 0, 2 and 4 kW for
    2 to 8 h at a time."""
    hours = np.arange(steps) * dt
    outdoor = (5 + 8 * np.sin(2 * np.pi * hours / 24)
               + 0.05 * rng.normal(size=(zones, steps)).cumsum(1))
    heating = np.zeros((zones, steps))
    for zone in range(zones):
        t = 0
        while t < steps:
            length = int(rng.integers(8, 32))
            heating[zone, t : t + length] = rng.choice([0.0, 2.0, 4.0])
            t += length
    return outdoor, heating


def daily_spells(rng: np.random.Generator, resistance: NDArray[np.float64], steps: int
                 ) -> NDArray[np.float64]:
    """Heating kW ``(zones, steps)`` at 15 minutes, as a room's own controller runs it: on
    each day from about 06:00 to about 22:00 (start and end drawn within an hour either
    way each day), off at night, at a power holding the room 12-20 K above the outdoors
    (drawn a room, over its ``resistance``)."""
    zones = resistance.size
    power = rng.uniform(12.0, 20.0, zones) / resistance
    quarter = np.arange(steps) % 96
    day = np.arange(steps) // 96
    days = int(day[-1]) + 1
    on = 24 + rng.integers(-4, 5, (zones, days))   # 06:00 ± 1 h, in quarter hours
    off = 88 + rng.integers(-4, 5, (zones, days))  # 22:00 ± 1 h
    heated = (quarter[None, :] >= on[:, day]) & (quarter[None, :] < off[:, day])
    spells: NDArray[np.float64] = np.where(heated, power[:, None], 0.0)
    return spells


def room_readings(start: NDArray[np.float64], resistance: NDArray[np.float64],
                  capacitance: NDArray[np.float64], outdoor: NDArray[np.float64],
                  heating: NDArray[np.float64], dt: float, temperature_noise: float,
                  noise_sd: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Readings ``(zones, steps)`` of RC rooms (``thermal.ThermalZone``) from ``start`` °C:
    the inputs read at a step act over the next (as on the reading path), the air takes
    ``temperature_noise`` K² an hour of what the model misses, and each reading
    ``noise_sd`` of its own."""
    from .thermal import ThermalZone

    model = ThermalZone()
    state = model.state(start, resistance, capacitance)
    zones, steps = outdoor.shape
    rooms = np.empty((zones, steps))
    for k in range(steps):
        rooms[:, k] = state[:, 0]
        state = model.step(state, dt, np.column_stack([outdoor[:, k], heating[:, k]]))
        state[:, 0] += rng.normal(0.0, np.sqrt(temperature_noise * dt), zones)
    readings: NDArray[np.float64] = rooms + rng.normal(0.0, noise_sd, rooms.shape)
    return readings
