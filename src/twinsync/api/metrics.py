"""Prometheus metrics at ``/metrics``, read from the running twin when scraped.

A custom collector reads the service's counters and latency windows at scrape time, so
nothing is counted twice and the hot path pays nothing for metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.responses import Response

from ..service import TwinService

router = APIRouter()


class TwinCollector:
    def __init__(self, service: TwinService, store_health: dict[str, Any]) -> None:
        self.service = service
        self.store_health = store_health

    def collect(self) -> Iterator[Metric]:
        service = self.service
        counts = service.pipeline.counts
        readings = CounterMetricFamily("twinsync_readings", "Readings by outcome",
                                       labels=["outcome"])
        for outcome in ("accepted", "duplicates", "late", "stale"):
            readings.add_metric([outcome], counts[outcome])
        yield readings
        yield GaugeMetricFamily("twinsync_lost_readings",
                                "Readings known missing from sequence gaps", value=counts["lost"])
        # Every letter ever written, committed with it: the rows still there shrink when
        # old letters are deleted, and a counter must not go down.
        yield CounterMetricFamily("twinsync_dead_letters", "Input kept as dead letters",
                                  value=service.store.totals().get("dead_letters", 0))
        now = service.clock()
        latency = GaugeMetricFamily(
            "twinsync_latency_seconds",
            "End-to-end latency (receive or commit minus corrected event time)",
            labels=["stage", "kind", "name", "quantile"])
        for key in service.pipeline.latency.names():
            stage, kind, name = key.split(":", 2)
            figures = service.pipeline.latency.percentiles(key, now)
            for quantile, field in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99")):
                value = figures[field]
                if value is not None:
                    latency.add_metric([stage, kind, name, quantile], float(value))
        yield latency
        offsets = GaugeMetricFamily("twinsync_clock_offset_seconds",
                                    "Estimated clock offset per source", labels=["source"])
        for name in service.pipeline.clocks.sources:
            offsets.add_metric([name], service.pipeline.clocks.offset(name, now))
        yield offsets
        health = GaugeMetricFamily("twinsync_sensors", "Sensors by health state",
                                   labels=["state"])
        for state, number in service.health_summary().items():
            health.add_metric([state], number)
        yield health
        yield GaugeMetricFamily("twinsync_alarms_active", "Active alarms",
                                value=len(service.alarms.active))
        yield GaugeMetricFamily("twinsync_subscribers", "WebSocket subscribers",
                                value=len(service.hub))
        _, waiting = service.writer.pending
        yield GaugeMetricFamily("twinsync_writer_pending_readings",
                                "Readings waiting for the writer", value=waiting)
        yield CounterMetricFamily("twinsync_writer_refused",
                                  "Writes refused because the writer was full",
                                  value=service.writer.refused)
        store_health = self.store_health
        yield GaugeMetricFamily("twinsync_store_connected", "1 if the store is reachable",
                                value=1.0 if store_health.get("connected") else 0.0)
        yield CounterMetricFamily("twinsync_store_reconnects", "Reconnections of the store",
                                  value=store_health.get("reconnects", 0))
        connected = GaugeMetricFamily("twinsync_connector_connected",
                                      "1 if the connector is connected", labels=["connector"])
        for health_of in service.connector_health():
            connected.add_metric([health_of.name], 1.0 if health_of.connected else 0.0)
        yield connected


@router.get("/metrics", include_in_schema=False)
async def get_metrics(request: Request) -> Response:
    service: TwinService = request.app.state.service
    registry = CollectorRegistry(auto_describe=False)
    # The store's health first, beside the writer: a reconnecting store may take seconds.
    store_health = await service.history(service.store.health)
    registry.register(TwinCollector(service, store_health))
    # The collector reads live state: on the writer, like every read of it.
    body = await service.view(generate_latest, registry)
    return Response(body, media_type="text/plain; version=0.0.4")
