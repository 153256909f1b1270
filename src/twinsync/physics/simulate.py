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
