"""Settings of a running twinsync: where the store is, where to listen, what to connect.

Read from a TOML file (``twinsync.toml`` by default, if present) and overridden by the
command line. Connector tables are passed as they are to the connector factory.

.. code-block:: toml

    store = "sqlite:///.twinsync/twin.sqlite"
    host = "127.0.0.1"
    port = 8000

    [[connectors]]
    kind = "mqtt"
    name = "site-gateway"
    topics = ["site/{building}/{sensor_id}/data"]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api.limits import MAX_BODY_BYTES, MAX_WS_FRAME_BYTES
from .errors import InvalidInput
from .ingest.decoded import MAX_ID_LENGTH, MAX_READINGS, MAX_TEXT_LENGTH
from .pipeline import ALLOWED_LATENESS_SECONDS, FRESHNESS_SECONDS
from .service.watch import LATENCY_BOUND_SECONDS

if TYPE_CHECKING:
    from .analytics import AnomalyMonitor
    from .bim import ExportOptions

DEFAULT_STORE = "sqlite:///.twinsync/twin.sqlite"
#: ``bim.apply.MAX_ARCHIVE_SHARE``, written out: importing ``twinsync.bim`` loads
#: IfcOpenShell, which reading the settings must not wait for (a test holds them equal).
MAX_ARCHIVE_SHARE = 0.5


@dataclass(slots=True)
class Settings:
    store: str = DEFAULT_STORE
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    """Seed the demo project into an empty store and run the site simulator."""
    simulator_speed: float = 600.0
    freshness_seconds: float = FRESHNESS_SECONDS
    """Readings older than this on arrival are kept as history but drive no live state."""
    allowed_lateness_seconds: float = ALLOWED_LATENESS_SECONDS
    """Readings this far behind their sensor's newest are late: history only."""
    latency_alarm_seconds: float = LATENCY_BOUND_SECONDS
    """A source whose p95 latency to commit exceeds this raises an alarm."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Largest request body; a larger one is refused with 413 (docs/LIMITS.md)."""
    max_readings: int = MAX_READINGS
    """Most readings in one request or message; more are refused with 413."""
    max_id_length: int = MAX_ID_LENGTH
    """Longest sensor id; a reading with a longer one becomes a dead letter."""
    max_text_length: int = MAX_TEXT_LENGTH
    """Longest unit or time text in a reading; a longer one becomes a dead letter."""
    max_ws_frame_bytes: int = MAX_WS_FRAME_BYTES
    """Largest WebSocket message; a larger one closes the socket with 1009."""
    ws_compression: bool = False
    """Compress WebSocket messages (permessage-deflate) for clients that offer it. Off by
    default: the server compresses every delta once per client, which at thousands of
    moving sensors costs more than the rest of the live path (docs/PERFORMANCE.md). Turn it
    on for a few dashboards behind a slow link."""
    anomaly_detection: bool = True
    """Score every reading for anomalies in the reading path, keep the score with it, and
    raise anomaly alarms (docs/ANOMALY.md). Off: scores are not computed (stored as NaN)."""
    anomaly_fleet_events: int = 1000
    """Anomaly events the whole fleet tells in a window of ``anomaly_event_quiet_seconds``
    (of arrival time); past it the fleet's anomalies are counted on their sensors and one
    ``anomaly_storm`` says how many, while alarms are still raised (docs/ANOMALY.md, "A
    budget for the fleet"). A fleet far past 100,000 sensors may want more."""
    anomaly_event_quiet_seconds: float = 3600.0
    """A sensor tells at most one anomaly event in this many seconds of event time, and
    the fleet's budget above is a window of this many seconds of arrival time. 0: every
    anomaly is told."""
    anomaly_event_score: float = 0.33
    """A reading whose anomaly score (0 to 1) is at least this is an ``anomaly`` event
    (within the quiet time and the fleet's budget above)."""
    anomaly_alarm_score: float = 0.6
    """A score of at least this (and at least ``anomaly_event_score``) also raises the
    sensor's anomaly alarm, unless a person marked the time expected."""
    anomaly_alarm_clear_seconds: float = 6 * 3600.0
    """A sensor's anomaly alarm clears by itself after this many seconds of event time
    without a further anomaly."""
    twin_models: bool = True
    """Run every bound sensor's local level/trend model in the reading path, raise
    ``twin_divergence`` alarms when reality leaves it, and recalibrate it (docs/PHYSICS.md,
    "On the reading path"). Off: no model runs and ``GET /api/elements/{id}/twin`` says so."""
    zone_models: bool = True
    """Run every space's thermal zone (an RC model: outdoor temperature, heating) in the
    reading path and estimate its R and C online (docs/PHYSICS.md, "Thermal zones on the
    reading path"). Off: no zone runs and ``GET /api/elements/{id}/zone`` says so."""
    connectors: list[dict[str, Any]] = field(default_factory=list)
    cors_origins: list[str] = field(default_factory=list)
    """Other web origins (``https://board.example.com``) whose pages may call the API and
    open the WebSocket. None by default: only the server's own pages (docs/SECURITY.md)."""
    connector_hosts: list[str] = field(default_factory=list)
    """Hosts (``broker.site``) or host:port pairs that connectors added through the API may
    reach. None by default: such a connector is refused. Connectors written in this file
    are trusted as they are."""
    rate_requests: float = 100.0
    """Requests a second one token (or session) may make, in bursts of twice that; more
    are answered 429 with Retry-After. 0: no limit."""
    rate_readings: float = 200_000.0
    """Readings a second one token may post (``POST /api/readings``), in bursts of twice
    that; a larger batch is taken once and the token then waits. 0: no limit."""
    audit_keep_days: float | None = None
    """Audit entries older than this many days are removed by the server's upkeep (the
    chain stays verifiable from the last one removed). None: kept for ever."""
    token_grace_days: float = 7.0
    """Sessions and tokens expired or revoked longer ago than this are removed by the
    upkeep (a user's record stays)."""
    upkeep_seconds: float = 3600.0
    """How often the server runs its upkeep (the two above); 0: never."""
    data_folder: Path | None = None
    """The only folder whose files a replay connector added through the API may read."""
    web_vendor: Path | None = None
    """Where the dashboard's npm packages are (``web/node_modules``); found if not given."""
    reimport_max_archive_share: float = MAX_ARCHIVE_SHARE
    """A model import that would archive more than this share (0 to 1) of the current
    model's elements is refused unless forced (docs/BIM.md, "Re-import")."""
    geometry_kernel: str = "manifold"
    """The geometry kernel preferred for the model's GLB: ``manifold`` (fast),
    ``opencascade`` (exact), ``cgal-simple`` or ``cgal``. Elements whose bodies the fast
    kernels are not known to get right go to OpenCASCADE whatever this says (docs/BIM.md)."""
    geometry_workers: int = 0
    """Processes tessellating the model for its GLB; 0: one per core."""
    geometry_timeout_seconds: float = 120.0
    """Longest one element may take in one kernel before its worker is killed and the
    element retried with OpenCASCADE, or reported."""

    def anomaly_monitor(self) -> AnomalyMonitor:
        """A fresh anomaly monitor following these settings (raises ``InvalidInput`` for
        thresholds out of order)."""
        from .analytics import AnomalyMonitor

        return AnomalyMonitor(event_at=self.anomaly_event_score,
                              alarm_at=self.anomaly_alarm_score,
                              clear_after=self.anomaly_alarm_clear_seconds,
                              event_quiet=self.anomaly_event_quiet_seconds,
                              fleet_events=self.anomaly_fleet_events)

    def geometry(self) -> ExportOptions:
        """The GLB export options these settings give."""
        from .bim import ExportOptions

        return ExportOptions(self.geometry_kernel, self.geometry_workers or None,
                             self.geometry_timeout_seconds)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> Settings:
        data: dict[str, Any] = {}
        file = Path(path) if path is not None else Path("twinsync.toml")
        if path is not None and not file.exists():
            raise InvalidInput(f"no configuration file {file}", "bad_config")
        if file.exists():
            try:
                data = tomllib.loads(file.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise InvalidInput(f"{file}: {exc}", "bad_config") from exc
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"{file}: unknown settings {sorted(unknown)}", "bad_config")
        data.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("demo", "ws_compression", "anomaly_detection", "twin_models",
                     "zone_models"):
            if not isinstance(data.get(name, False), bool):
                raise InvalidInput(f"{file}: {name} must be true or false, not "
                                   f"{data[name]!r}", "bad_config")
        for name in ("rate_requests", "rate_readings"):
            value = data.get(name, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise InvalidInput(f"{file}: {name} must be a number of at least 0, not "
                                   f"{value!r}", "bad_config")
            data[name] = float(value)
        for name in ("audit_keep_days", "token_grace_days", "upkeep_seconds"):
            if data.get(name) is None:
                continue
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                    or (name == "audit_keep_days" and value == 0):
                raise InvalidInput(f"{file}: {name} must be a number of at least 0"
                                   f"{' (more than 0)' if name == 'audit_keep_days' else ''}"
                                   f", not {value!r}", "bad_config")
            data[name] = float(value)
        events = data.get("anomaly_fleet_events", 1)
        if isinstance(events, bool) or not isinstance(events, int) or events < 1:
            raise InvalidInput(f"{file}: anomaly_fleet_events must be a whole number of at "
                               f"least 1, not {events!r}", "bad_config")
        quiet = data.get("anomaly_event_quiet_seconds", 0.0)
        if isinstance(quiet, bool) or not isinstance(quiet, (int, float)) or not quiet >= 0:
            raise InvalidInput(f"{file}: anomaly_event_quiet_seconds must be a number of at "
                               f"least 0, not {quiet!r}", "bad_config")
        if "anomaly_event_quiet_seconds" in data:
            data["anomaly_event_quiet_seconds"] = float(quiet)
        for name in ("anomaly_event_score", "anomaly_alarm_score",
                     "anomaly_alarm_clear_seconds"):
            value = data.get(name, 1.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not value > 0:
                raise InvalidInput(f"{file}: {name} must be a number more than 0, not "
                                   f"{value!r}", "bad_config")
            if name in data:
                data[name] = float(value)
        scores = {k: data[k] for k in ("anomaly_event_score", "anomaly_alarm_score")
                  if k in data}
        if scores:
            try:  # the monitor's own check of its thresholds' order, at start
                cls(**scores).anomaly_monitor()
            except InvalidInput as exc:
                raise InvalidInput(f"{file}: anomaly_event_score and anomaly_alarm_score "
                                   f"must be in order, at most 1, not {scores} ({exc})",
                                   "bad_config") from exc
        share = data.get("reimport_max_archive_share", MAX_ARCHIVE_SHARE)
        if isinstance(share, bool) or not isinstance(share, (int, float)) \
                or not 0 <= share <= 1:
            raise InvalidInput(f"{file}: reimport_max_archive_share must be a number from 0 "
                               f"to 1, not {share!r}", "bad_config")
        data["reimport_max_archive_share"] = float(share)
        for name in ("web_vendor", "data_folder"):
            if data.get(name) is not None:
                data[name] = Path(data[name])
        geometry = {k: data[k] for k in ("geometry_kernel", "geometry_workers",
                                           "geometry_timeout_seconds") if k in data}
        if geometry:
            try:  # checked here so a bad value stops the server at start, not the first GLB
                cls(**geometry).geometry()
            except (ValueError, TypeError) as exc:
                raise InvalidInput(f"{file}: {exc}", "bad_config") from exc
        for name in ("cors_origins", "connector_hosts"):
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput(f"{file}: {name} must be a list of text", "bad_config")
        return cls(**data)
