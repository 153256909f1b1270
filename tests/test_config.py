"""Settings come from twinsync.toml; a setting of the wrong kind stops start-up with a
reason instead of meaning something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsync.config import Settings
from twinsync.errors import InvalidInput


def test_websocket_compression_is_off_unless_asked_for(tmp_path: Path) -> None:
    assert Settings().ws_compression is False
    file = tmp_path / "twinsync.toml"
    file.write_text("ws_compression = true\n")
    assert Settings.load(file).ws_compression is True


@pytest.mark.parametrize("text", ['ws_compression = "yes"', "ws_compression = 1",
                                  'demo = "false"'])
def test_a_switch_that_is_not_true_or_false_is_refused(tmp_path: Path, text: str) -> None:
    file = tmp_path / "twinsync.toml"
    file.write_text(text + "\n")
    with pytest.raises(InvalidInput) as refused:
        Settings.load(file)
    assert refused.value.reason == "bad_config"


def test_access_settings_are_closed_by_default_and_read_from_the_file(tmp_path: Path) -> None:
    closed = Settings()
    assert (closed.cors_origins, closed.connector_hosts, closed.data_folder) == ([], [], None)
    file = tmp_path / "twinsync.toml"
    file.write_text('cors_origins = ["https://board.example.com"]\n'
                    'connector_hosts = ["broker.site:1883"]\ndata_folder = "data"\n')
    settings = Settings.load(file)
    assert settings.cors_origins == ["https://board.example.com"]
    assert settings.connector_hosts == ["broker.site:1883"]
    assert settings.data_folder == Path("data")


def test_rate_limits_are_read_as_numbers_and_zero_means_none(tmp_path: Path) -> None:
    file = tmp_path / "twinsync.toml"
    file.write_text("rate_requests = 0\nrate_readings = 5000\n")
    settings = Settings.load(file)
    assert (settings.rate_requests, settings.rate_readings) == (0.0, 5000.0)


def test_the_audit_log_is_kept_for_ever_unless_a_retention_is_set(tmp_path: Path) -> None:
    file = tmp_path / "twinsync.toml"
    file.write_text("")
    assert Settings.load(file).audit_keep_days is None
    file.write_text("audit_keep_days = 365\ntoken_grace_days = 0\nupkeep_seconds = 600\n")
    settings = Settings.load(file)
    assert (settings.audit_keep_days, settings.token_grace_days,
            settings.upkeep_seconds) == (365.0, 0.0, 600.0)


def test_the_reimport_share_is_read_from_the_file_and_must_be_a_share(tmp_path: Path) -> None:
    file = tmp_path / "twinsync.toml"
    file.write_text("reimport_max_archive_share = 1\n")
    assert Settings.load(file).reimport_max_archive_share == 1.0
    for text in ("1.5", "-0.1", '"half"', "true"):
        file.write_text(f"reimport_max_archive_share = {text}\n")
        with pytest.raises(InvalidInput, match="reimport_max_archive_share"):
            Settings.load(file)


def test_the_geometry_export_prefers_manifold_on_every_core_unless_told_otherwise(
        tmp_path: Path) -> None:
    default = Settings().geometry()
    assert (default.kernel, default.workers, default.timeout) == ("manifold", None, 120.0)
    config = tmp_path / "twinsync.toml"
    config.write_text('geometry_kernel = "opencascade"\ngeometry_workers = 1\n'
                      "geometry_timeout_seconds = 30\n")
    chosen = Settings.load(config).geometry()
    assert (chosen.kernel, chosen.workers, chosen.timeout) == ("opencascade", 1, 30)


@pytest.mark.parametrize("text", [
    'cors_origins = "https://a.example"', "connector_hosts = [1]",  # not a list of text
    'rate_requests = "fast"', "rate_readings = -1", "rate_requests = true",  # not a rate
    'geometry_kernel = "blender"', "geometry_workers = -1", "geometry_workers = 1.5",
    "geometry_timeout_seconds = 0", 'geometry_timeout_seconds = "soon"',
    "audit_keep_days = 0", 'audit_keep_days = "a year"', "token_grace_days = -1",
    "upkeep_seconds = false", "anomaly_fleet_events = 0", "anomaly_fleet_events = 2.5",
    "anomaly_fleet_events = true", "anomaly_event_quiet_seconds = -1",
    'anomaly_event_quiet_seconds = "an hour"', "anomaly_event_score = 0",
    "anomaly_alarm_score = 1.5", "anomaly_event_score = 0.7\nanomaly_alarm_score = 0.5",
    "anomaly_event_score = 0.9",  # above the default alarm score
    "anomaly_alarm_clear_seconds = 0", "anomaly_alarm_score = true"])
def test_a_setting_that_cannot_work_stops_the_server_at_start(tmp_path: Path,
                                                              text: str) -> None:
    config = tmp_path / "twinsync.toml"
    config.write_text(text + "\n")
    with pytest.raises(InvalidInput) as caught:
        Settings.load(config)
    assert caught.value.reason == "bad_config"


def test_the_fleet_budget_of_anomaly_events_and_its_window_are_read_from_the_file(
        tmp_path: Path) -> None:
    default = Settings()
    assert (default.anomaly_fleet_events, default.anomaly_event_quiet_seconds) == (1000, 3600.0)
    file = tmp_path / "twinsync.toml"
    file.write_text("anomaly_fleet_events = 5000\nanomaly_event_quiet_seconds = 900\n")
    settings = Settings.load(file)
    assert settings.anomaly_fleet_events == 5000
    assert settings.anomaly_event_quiet_seconds == 900.0
