"""The demo's site simulator: rooms are thermal zones driven by the weather the station
reports and a heating no sensor reads, on the wall clock, so the twin's zone models have
a room they can fit; the other stories run sped up."""

from __future__ import annotations

import numpy as np

from twinsync.ingest.simulator import (
    DAY,
    HEATING_LIFT,
    ROOM_STEP,
    SiteSimulator,
    heating_lift,
    outdoor_temperature,
)
from twinsync.model import Binding, Sensor
from twinsync.physics.thermal import ThermalZone

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def simulator() -> SiteSimulator:
    sensors = [Sensor("ROOM-T", "temperature", "degC"), Sensor("WEATHER-T", "temperature",
                                                               "degC")]
    bindings = {"ROOM-T": Binding("ROOM-T", "room", "air_temperature"),
                "WEATHER-T": Binding("WEATHER-T", "site", "ambient_temperature")}
    return SiteSimulator(sensors, bindings)


def test_a_room_is_the_rc_zone_of_the_station_s_weather_and_its_daily_heating() -> None:
    site = simulator()
    room = next(t for t in site._tracks if t.sensor_id == "ROOM-T")
    times = START + np.arange(0, 2 * DAY, ROOM_STEP)
    shown = [site.room(room, float(at)) for at in times]
    # The same room by the twin's own model: R = 1 K/kW, so the heating's lift in K is its
    # power in kW, and C = τ in hours; the room's own gains are a steady lift of their own.
    model = ThermalZone()
    gains = shown[0] - (11.0 + HEATING_LIFT * 14 / 24)
    state = model.state(np.array([shown[0]]), np.array([1.0]), np.array([room.room_tau / 3600]))
    expected = [shown[0]]
    for at in times[:-1]:
        inputs = np.array([[outdoor_temperature(float(at)), heating_lift(float(at)) + gains]])
        state = model.step(state, ROOM_STEP / 3600, inputs)
        expected.append(float(state[0, 0]))
    assert np.allclose(shown, expected, atol=1e-9)
    # It is heated: warmer than the outdoors by day and night, most at the end of the day.
    outdoors = np.array([outdoor_temperature(float(at)) for at in times])
    assert (np.array(shown) > outdoors).all()
    hours = (times % DAY) / 3600
    day = np.array(shown)[(hours >= 18) & (hours < 20)].mean()
    night = np.array(shown)[(hours >= 4) & (hours < 6)].mean()
    assert day > night + 1.0


def test_the_station_reports_the_weather_the_rooms_feel_and_rooms_run_on_the_wall_clock(
        ) -> None:
    site = simulator()
    site._started_at = START
    weather = next(t for t in site._tracks if t.sensor_id == "WEATHER-T")
    room = next(t for t in site._tracks if t.sensor_id == "ROOM-T")
    readings = [site.value(weather, START + hour * 3600) for hour in range(24)]
    assert np.allclose(readings, [outdoor_temperature(START + h * 3600) for h in range(24)],
                       atol=1.0)  # its noise is 0.2 K
    # Sped up 600 times, a story day would pass in 144 s; a room moves as slowly as a room.
    first = site.value(room, START)
    assert abs(site.value(room, START + 144.0) - first) < 0.6
