"""True site signals per peer group, on a one-minute grid, with their legitimate transients.

A group's truth has two parts: ``base`` (what every sensor of the group sees alike) and
``transient`` (the part a sensor sees scaled by its own factor: its depth in the slab, its
place in the room, its share of the column's load, its distance to the work). A sensor's
reading is then ``base + factor * transient`` plus its own bias, wander and noise (added
in ``generate``). Transients are what a healthy site does and a health check must not call
a fault: a slab's hydration heat after a pour, a heating schedule and door openings, load
steps as floors are poured above a column, weather fronts, work-hours vibration bursts.

Every group also lists its transient events (time, name), so that a drift fault can be
made to start during one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from .params import DAY, HOUR, SiteParams

Array = NDArray[np.float64]

#: What each signal type is in the model: kind, unit, property, element prefix, source.
SIGNAL_INFO: dict[str, tuple[str, str, str, str, str]] = {
    "slab": ("temperature", "degC", "core_temperature", "slab", "lora-1"),
    "room_temperature": ("temperature", "degC", "air_temperature", "room", "bms"),
    "room_humidity": ("humidity", "percent", "relative_humidity", "room", "bms"),
    "strain": ("strain", "microstrain", "axial_strain", "column", "daq-1"),
    "outdoor": ("temperature", "degC", "outdoor_temperature", "facade", "lora-2"),
    "vibration": ("vibration", "mm/s", "vibration_rms", "zone", "vib-gw"),
}

STEP = 60.0  # the grid's step, seconds


@dataclass(slots=True)
class Group:
    """One peer group: sensors of one element property."""

    signal: str
    index: int          # its number among the groups of its signal type
    element_id: str
    base: Array
    transient: Array
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.element_id}/{SIGNAL_INFO[self.signal][2]}"


def grid(days: float) -> Array:
    """Seconds since day 0, one a minute, one step past the end."""
    seconds: Array = np.arange(round(days * DAY / STEP) + 2, dtype=np.float64) * STEP
    return seconds


def work_hours(seconds: Array) -> NDArray[np.bool_]:
    """07:00-17:00 on weekdays (day 0 is a Monday)."""
    day = np.floor(seconds / DAY)
    hour = (seconds - day * DAY) / HOUR
    return np.asarray((day % 7 < 5) & (hour >= 7.0) & (hour < 17.0))


def lowpass(values: Array, tau_s: float) -> Array:
    """First-order lag (a building's or a slab's thermal inertia), as a convolution with
    its exponential response cut at 8 time constants; starts settled at the first value."""
    alpha = 1.0 - np.exp(-STEP / max(tau_s, STEP))
    taps = int(8 * max(tau_s, STEP) / STEP) + 1
    kernel = alpha * (1.0 - alpha) ** np.arange(taps)
    padded = np.concatenate([np.full(taps - 1, values[0]), values])
    lagged: Array = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    return lagged


def outdoor(rng: np.random.Generator, p: SiteParams, seconds: Array
            ) -> tuple[Array, Array, list[tuple[float, str]]]:
    """Site air temperature, the clear-sky share per minute (for sun on a facade), fronts."""
    days = seconds / DAY
    n_days = int(np.ceil(days[-1])) + 2
    cloud = rng.uniform(0.2, 1.0, n_days)
    amplitude = rng.uniform(*p.outdoor_daily_amplitude_c, n_days) * (1.2 - 0.7 * cloud)
    hour = (seconds % DAY) / HOUR
    shape = -np.cos(2 * np.pi * (hour - 3.0) / 24.0) + 0.25 * np.sin(4 * np.pi * hour / 24.0)
    clear = np.interp(days, np.arange(n_days) + 0.5, 1.0 - cloud)
    temperature = p.outdoor_mean_c + np.interp(days, np.arange(n_days) + 0.5, amplitude) * shape
    events: list[tuple[float, str]] = []
    when = rng.uniform(0.3, 1.0) * p.front_every_days[0] * DAY
    while when < seconds[-1]:
        cold = rng.random() < 0.7
        size = rng.uniform(*p.front_size_c) * (-1.0 if cold else 1.0)
        width = rng.uniform(*p.front_hours) * HOUR / 4.0  # the front passes in ~4 widths
        recovery = rng.uniform(*p.front_recovery_days) * DAY
        after = np.maximum(seconds - when, 0.0)
        passing = 1.0 / (1.0 + np.exp(np.clip(-(seconds - when) / width, -50.0, 50.0)))
        temperature += size * passing * np.exp(-after / recovery)
        events.append((when, "weather front"))
        when += rng.uniform(*p.front_every_days) * DAY
    return temperature, clear, events


def slab(rng: np.random.Generator, p: SiteParams, seconds: Array, air: Array, index: int
         ) -> Group:
    """Curing slab: lagged ambient plus the hydration heat of its pour (and a topping)."""
    coupling = rng.uniform(*p.slab_ambient_coupling)
    lagged = lowpass(air, p.slab_ambient_lag_h * HOUR)
    base = coupling * lagged + (1.0 - coupling) * 12.0
    transient = np.zeros_like(seconds)
    events: list[tuple[float, str]] = []
    day = np.floor(rng.uniform(-2.0, 0.75 * seconds[-1] / DAY))
    pours = [day * DAY + rng.uniform(8.0, 14.0) * HOUR]
    if rng.random() < 0.3:
        pours.append(pours[0] + rng.uniform(2.0, 5.0) * DAY)
    for number, pour in enumerate(pours):
        peak = rng.uniform(*p.slab_peak_c) * (0.5 if number else 1.0)
        to_peak = rng.uniform(*p.slab_peak_hours) * HOUR
        shape = rng.uniform(*p.slab_shape)
        x = np.maximum(seconds - pour, 0.0) / to_peak
        # A gamma-shaped heat curve: 0 at the pour, ``peak`` after ``to_peak``, days of tail.
        transient += peak * x**shape * np.exp(shape * (1.0 - x))
        if pour >= 0:
            events.append((float(pour), "pour"))
    return Group("slab", index, f"slab-{index}", base, transient, events)


def room_doors(rng: np.random.Generator, p: SiteParams, seconds: Array
               ) -> tuple[Array, list[tuple[float, str]]]:
    """A room's door openings in work hours: a unit dip that recovers (shared by peers)."""
    rate = p.door_per_work_hour / HOUR
    work = work_hours(seconds)
    opened = seconds[work & (rng.random(len(seconds)) < rate * STEP)]
    kernel = np.zeros_like(seconds)
    for when in opened:
        tau = rng.uniform(*p.door_tau_min) * 60.0
        first = int(when // STEP)
        last = min(first + int(6 * tau // STEP) + 2, len(seconds))
        since = seconds[first:last] - when
        size = rng.uniform(0.3, 1.0)
        kernel[first:last] += size * (1.0 - np.exp(-since / 120.0)) * np.exp(-since / tau)
    return kernel, [(float(when), "door opening") for when in opened]


def room_heating(p: SiteParams, seconds: Array, air: Array) -> Array:
    """Heating schedule (day setpoint on weekdays 06-18, else night) through the room's lag,
    plus a little of the outdoor air through the walls."""
    day = np.floor(seconds / DAY)
    hour = (seconds - day * DAY) / HOUR
    heated = (day % 7 < 5) & (hour >= 6.0) & (hour < 18.0)
    setpoint = np.where(heated, p.room_day_c, p.room_night_c)
    return lowpass(setpoint, p.room_tau_h * HOUR) + 0.05 * (air - p.outdoor_mean_c)


def strain(rng: np.random.Generator, p: SiteParams, seconds: Array, air: Array, index: int
           ) -> Group:
    """Column strain (compression negative): thermal, creep; load steps as floors are poured
    above, and temporary loads in work hours."""
    thermal = -p.strain_per_c * (lowpass(air, 6 * HOUR) - p.outdoor_mean_c)
    creep = -rng.uniform(0.5, 3.0) * seconds / DAY
    load = np.full_like(seconds, rng.uniform(*p.strain_dead_load))
    events: list[tuple[float, str]] = []
    when = rng.uniform(0.2, 1.0) * p.strain_step_every_days[1] * DAY
    while when < seconds[-1]:
        day = np.floor(when / DAY)
        start = day * DAY + rng.uniform(8.0, 14.0) * HOUR
        ramp = rng.uniform(*p.strain_ramp_h) * HOUR
        load += rng.uniform(*p.strain_step) * np.clip((seconds - start) / ramp, 0.0, 1.0)
        events.append((float(start), "load step"))
        when += rng.uniform(*p.strain_step_every_days) * DAY
    work = work_hours(seconds)
    for day in range(int(seconds[-1] // DAY) + 1):
        if day % 7 >= 5 or rng.random() < 0.5:
            continue
        start = day * DAY + rng.uniform(7.5, 13.0) * HOUR
        length = rng.uniform(1.0, 4.0) * HOUR
        rise = np.clip((seconds - start) / 600.0, 0.0, 1.0)
        fall = np.clip((start + length - seconds) / 600.0, 0.0, 1.0)
        load += rng.uniform(*p.strain_temporary) * np.minimum(rise, fall) * work
        events.append((float(start), "temporary load"))
    return Group("strain", index, f"column-{index}", thermal + creep, -load, events)


def vibration(rng: np.random.Generator, p: SiteParams, seconds: Array, index: int) -> Group:
    """Vibration RMS: a quiet background; in work hours a fluctuating level and bursts
    (piling, compaction) of minutes to an hour."""
    work = work_hours(seconds).astype(float)
    ramped = np.convolve(work, np.ones(30) / 30.0, mode="same")  # machines start over ~30 min
    coarse = np.exp(0.3 * rng.normal(size=len(seconds) // 10 + 2))
    fluctuation = np.interp(np.arange(len(seconds)) / 10.0, np.arange(len(coarse)), coarse)
    level = rng.uniform(*p.vibration_work) * ramped * fluctuation
    events: list[tuple[float, str]] = []
    # Drawn over all hours, kept in work hours (10 of 24 h): per work day that is the rate.
    bursts = rng.poisson(p.vibration_bursts_per_day * seconds[-1] / DAY * 2.4)
    for when in np.sort(rng.uniform(0.0, seconds[-1], bursts)):
        if not work[int(when // STEP)]:
            continue
        length = rng.uniform(*p.vibration_burst_min) * 60.0
        rise = np.clip((seconds - when) / 120.0, 0.0, 1.0)
        fall = np.clip((when + length - seconds) / 120.0, 0.0, 1.0)
        level = level + rng.uniform(*p.vibration_burst) * np.minimum(rise, fall)
        events.append((float(when), "vibration burst"))
    base = np.full_like(seconds, rng.uniform(*p.vibration_background))
    return Group("vibration", index, f"zone-{index}", base, level, events)


def room(rng: np.random.Generator, p: SiteParams, seconds: Array, air: Array, index: int,
         signals: tuple[str, ...]) -> list[Group]:
    """A room's temperature and/or humidity groups, sharing its heating and its doors."""
    heating = room_heating(p, seconds, air)
    doors, events = room_doors(rng, p, seconds)
    groups = []
    if "room_temperature" in signals:
        drop = rng.uniform(*p.door_drop_c)
        groups.append(Group("room_temperature", index, f"room-{index}", heating,
                            -drop * doors, list(events)))
    if "room_humidity" in signals:
        # Relative humidity falls as the air warms; new concrete dries out over weeks; an
        # open door lets in air that is wetter (or drier) than the room's.
        drying = rng.uniform(0.05, 0.3) * seconds / DAY
        base = (rng.uniform(*p.humidity_base) - drying
                - p.humidity_per_c * (heating - float(np.mean(heating))))
        wetter = rng.uniform(*p.door_humidity) * (1.0 if rng.random() < 0.7 else -1.0)
        groups.append(Group("room_humidity", index, f"room-{index}", base, wetter * doors,
                            list(events)))
    return groups


def facade(p: SiteParams, rng: np.random.Generator, air: Array, clear: Array,
           fronts: list[tuple[float, str]], seconds: Array, index: int) -> Group:
    """Outdoor air on one facade: the site's air, a small offset, and afternoon sun on the
    housing on clear days (more for some sensors than others: the transient factor)."""
    hour = (seconds % DAY) / HOUR
    sun = np.clip(np.sin(np.pi * (hour - 9.0) / 8.0), 0.0, None) * clear * 1.5
    base = air + rng.uniform(-0.5, 0.5)
    return Group("outdoor", index, f"facade-{index}", base, sun, list(fronts))


def site_groups(rng: np.random.Generator, p: SiteParams, seconds: Array,
                groups_per_type: dict[str, int]) -> list[Group]:
    """All peer groups of the site, ``groups_per_type[signal]`` of each signal type."""
    air, clear, fronts = outdoor(rng, p, seconds)
    groups: list[Group] = []
    for index in range(groups_per_type.get("slab", 0)):
        groups.append(slab(rng, p, seconds, air, index))
    rooms = max(groups_per_type.get("room_temperature", 0),
                groups_per_type.get("room_humidity", 0))
    for index in range(rooms):
        wanted = tuple(signal for signal in ("room_temperature", "room_humidity")
                       if index < groups_per_type.get(signal, 0))
        groups.extend(room(rng, p, seconds, air, index, wanted))
    for index in range(groups_per_type.get("strain", 0)):
        groups.append(strain(rng, p, seconds, air, index))
    for index in range(groups_per_type.get("outdoor", 0)):
        groups.append(facade(p, rng, air, clear, fronts, seconds, index))
    for index in range(groups_per_type.get("vibration", 0)):
        groups.append(vibration(rng, p, seconds, index))
    for group in groups:
        # For strain, fronts reach the columns through their temperature too.
        if group.signal == "strain":
            group.events.extend(fronts)
        group.events.sort()
    return groups
