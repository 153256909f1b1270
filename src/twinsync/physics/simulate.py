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


def row_neighbours(floors: int, rooms: int) -> NDArray[np.float64]:
    """Which zone neighbours which ``(Z, Z)``, 1 for a shared partition: ``floors`` rows of
    ``rooms`` rooms side by side (a corridor's offices; the end rooms have one neighbour),
    the floors apart."""
    size = floors * rooms
    beside = np.zeros((size, size))
    for k in range(size - 1):
        if (k + 1) % rooms:
            beside[k, k + 1] = beside[k + 1, k] = 1.0
    return beside


def coupled_readings(start: NDArray[np.float64], outdoor_resistance: NDArray[np.float64],
                     partition_resistance: NDArray[np.float64],
                     capacitance: NDArray[np.float64], beside: NDArray[np.float64],
                     outdoor: NDArray[np.float64], heating: NDArray[np.float64], dt: float,
                     temperature_noise: float, noise_sd: float, rng: np.random.Generator,
                     substeps: int = 15) -> NDArray[np.float64]:
    """Readings ``(zones, steps)`` of rooms that exchange heat with the outdoors (K/kW
    ``outdoor_resistance`` each) and with each room ``beside`` them (K/kW
    ``partition_resistance`` each partition, the pair's mean taken): the inputs read at a
    step act over the next, the rooms step together in ``substeps`` (each room's exact RC
    step with its neighbours held over a substep: at 1 minute against τ of hours the
    coupling's error is far below the readings' noise), the air takes
    ``temperature_noise`` K² an hour, and each reading ``noise_sd``."""
    conductance = beside / (0.5 * (partition_resistance[:, None] + partition_resistance[None, :]))
    total = 1.0 / outdoor_resistance + conductance.sum(axis=1)
    tau = capacitance / total
    zones, steps = outdoor.shape
    h = dt / substeps
    decay = np.exp(-h / tau)
    state = np.array(start, dtype=np.float64)
    rooms = np.empty((zones, steps))
    for k in range(steps):
        rooms[:, k] = state
        for _ in range(substeps):
            flow = conductance @ state + outdoor[:, k] / outdoor_resistance + heating[:, k]
            equilibrium = flow / total
            state = equilibrium + (state - equilibrium) * decay
        state = state + rng.normal(0.0, np.sqrt(temperature_noise * dt), zones)
    readings: NDArray[np.float64] = rooms + rng.normal(0.0, noise_sd, rooms.shape)
    return readings
