"""CSV replay: long and wide files, bad rows as dead letters with line numbers, pacing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from twinsync.errors import ConnectorError
from twinsync.ingest.replay import ReplayConnector, ReplaySettings, replay_file
from twinsync.service import TwinService

T0 = 1_767_225_600


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


async def test_a_long_file_with_units_replays_every_row(
        service: TwinService, tmp_path: Path) -> None:
    rows = "\n".join(f"{T0 + i},s-{i % 3},{20 + i},degC" for i in range(30))
    path = write(tmp_path / "long.csv", "timestamp,sensor,value,unit\n" + rows)
    result = await replay_file(path, service)
    assert (result.readings, result.accepted, result.dead_letters) == (30, 30, 0)
    history = service.store.history(service.sensor_row("s-1"), 0, 4e9)
    assert history.event_time.tolist() == [T0 + i for i in range(1, 30, 3)]


async def test_a_wide_file_takes_sensors_and_units_from_the_header(
        service: TwinService, tmp_path: Path) -> None:
    path = write(tmp_path / "wide.csv", """
time,s-0 [degF],s-1
2026-01-01T00:00:00Z,68,1.5
2026-01-01T00:01:00Z,,1.6
""")
    result = await replay_file(path, service)
    assert (result.readings, result.accepted) == (3, 3)
    history = service.store.history(service.sensor_row("s-0"), 0, 4e9)
    assert history.value.tolist() == pytest.approx([20.0])  # °F converted to the sensor's °C


async def test_bad_rows_become_dead_letters_with_their_line_number(
        service: TwinService, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", f"""
ts,sensor_id,reading
{T0},s-0,1.0
{T0 + 1},s-0,not-a-number
yesterday,s-0,2.0
{T0 + 2},s-0
{T0 + 3},s-0,3.0
""")
    result = await replay_file(path, service)
    assert (result.readings, result.dead_letters) == (2, 3)
    letters = service.store.dead_letters()
    assert [(d.reason, d.detail.split(": ")[0].rsplit(" ", 1)[-1]) for d in letters] == [
        ("not_a_number", "3"), ("bad_time", "4"), ("bad_row", "5")]


async def test_columns_can_be_named_explicitly(service: TwinService, tmp_path: Path) -> None:
    path = write(tmp_path / "named.csv", f"when;which;what\n{T0};s-2;5\n")
    result = await replay_file(path, service, layout="long", time_column="when",
                               sensor_column="which", value_column="what", delimiter=";")
    assert result.accepted == 1


async def test_speed_paces_the_replay_by_the_readings_own_times(
        service: TwinService, tmp_path: Path) -> None:
    rows = "\n".join(f"{T0 + i},s-0,{i}" for i in range(5))  # 4 s of readings
    path = write(tmp_path / "paced.csv", "timestamp,sensor,value\n" + rows)
    started = time.monotonic()
    result = await replay_file(path, service, speed=10)  # 0.4 s at ten times real time
    elapsed = time.monotonic() - started
    assert result.accepted == 5
    assert 0.35 < elapsed < 2.0


async def test_a_file_without_a_time_column_fails_at_start(tmp_path: Path) -> None:
    path = write(tmp_path / "no_time.csv", "sensor,value\ns-0,1\n")
    with pytest.raises(ConnectorError, match="no time column"):
        await ReplayConnector(ReplaySettings(path=str(path))).start()
    with pytest.raises(ConnectorError, match="cannot read"):
        await ReplayConnector(ReplaySettings(path=str(tmp_path / "missing.csv"))).start()
