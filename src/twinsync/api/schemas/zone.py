"""What the thermal zone route answers: a space as the reading path models it
(``service/zone_models.py``; docs/PHYSICS.md, "Thermal zones on the reading path")."""

from __future__ import annotations

from pydantic import BaseModel


class ZoneInputOut(BaseModel):
    """An input of the zone: the element and property it is read from, its latest value
    (°C or kW) and when (epoch seconds, on the server's clock); null until its first
    reading. ``clock_corrected_by``: the seconds that reading's stamp was moved on because
    health names its sensor's clock behind (0 when taken as stamped)."""

    element_id: str
    property: str
    value: float | None
    time: float | None
    clock_corrected_by: float = 0.0


class ZoneForecastOut(BaseModel):
    """The zone's temperature ``hours`` after its last reading (at ``time``) from its
    inputs' latest readings (``outdoor_temperature``, ``heating_kw``: the heating held,
    the outdoors carried along its daily course once two days of it are stored), the
    standard deviation of a reading then, and the 90 % interval (``low``, ``high``).
    ``inputs``:
    ``persisted`` (the forecast route's: the inputs' spread, learned from their stored
    readings, is in the interval), or ``held`` for a zone of fewer than 8 readings or an
    input of fewer than two (the inputs taken as known: the interval is only the model's
    and the sensor's)."""

    hours: float
    time: float
    outdoor_temperature: float
    heating_kw: float
    inputs: str
    temperature: float | None
    sd: float | None
    low: float | None
    high: float | None


class ZoneOut(BaseModel):
    """The element as a thermal zone. ``enabled`` is the ``zone_models`` setting;
    ``modelled`` false comes with the ``reason``. ``identifiable``:
    ``resistance_and_capacitance`` when a heating meter is bound, else ``time_constant``
    (R and C alone are then null). R in K/kW, C in kWh/K, the time constant R·C in hours,
    each with its standard deviation; ``gain`` (K, with ``gain_sd``): how far the room's
    equilibrium sits above what the outdoors and the metered heating explain (sun,
    people, or without a meter the heating itself); ``temperature`` is the model's air
    temperature at ``last_time``. ``misfit``: the prior's mean squared error against the
    trusted readings over about the last day, over the variance it claims (the prior's
    and a reading's noise): near or below 1 where the room fits its model; above
    ``MISFIT`` (2) the forecast route answers by the readings' level/trend instead."""

    element_id: str
    enabled: bool
    modelled: bool
    reason: str | None
    sensors: list[str] | None = None
    outdoor: ZoneInputOut | None = None
    heating: ZoneInputOut | None = None
    identifiable: str | None = None
    readings: int | None = None
    last_time: float | None = None
    temperature: float | None = None
    temperature_sd: float | None = None
    resistance: float | None = None
    resistance_sd: float | None = None
    capacitance: float | None = None
    capacitance_sd: float | None = None
    time_constant_hours: float | None = None
    time_constant_sd: float | None = None
    gain: float | None = None
    gain_sd: float | None = None
    misfit: float | None = None
    forecast: ZoneForecastOut | None = None
