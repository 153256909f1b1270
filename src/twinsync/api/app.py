"""The FastAPI application: REST, WebSocket, the dashboard, and the service's lifespan.

Start-up and shutdown live here, in one place: open the store and rebuild the twin, seed
the demo if asked, start connectors; on shutdown stop connectors and close the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from ..config import Settings
from ..service import TwinService
from ..service.rehearsal import rehearse
from ..store.tokens import open_token_store
from . import (
    contract,
    docs_pages,
    errors,
    metrics,
    routes_access,
    routes_anomalies,
    routes_audit,
    routes_curing,
    routes_forecast,
    routes_health,
    routes_models,
    routes_physics,
    routes_readings,
    routes_schedule,
    routes_shadow,
    routes_site_events,
    routes_twin,
    routes_twin_track,
    routes_users,
    ws,
)
from .access import AccessMiddleware
from .auth import Authenticator
from .limits import Limits
from .paths import EncodedSlashes
from .rates import RateLimits
from .responses import JSON
from .upkeep import Upkeep

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def find_vendor(settings: Settings) -> Path | None:
    """The dashboard's npm packages: configured, or ``web/node_modules`` of the checkout."""
    if settings.web_vendor is not None:
        return settings.web_vendor
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / "web" / "node_modules"
        if candidate.is_dir():
            return candidate
    return None


def create_app(settings: Settings | None = None, *, service: TwinService | None = None
               ) -> FastAPI:
    """The app for ``settings``; pass ``service`` to serve an already open twin (tests)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def options() -> dict[str, Any]:
            # Fresh each call: a twin's anomaly monitor holds its state.
            return dict(freshness=settings.freshness_seconds,
                        allowed_lateness=settings.allowed_lateness_seconds,
                        latency_alarm=settings.latency_alarm_seconds,
                        geometry=settings.geometry(),
                        anomaly_detection=settings.anomaly_detection,
                        anomaly_monitor=settings.anomaly_monitor(),
                        twin_models=settings.twin_models, zone_models=settings.zone_models)

        if service is None:
            # Compile what the reading path calls before serving, not on the first live
            # batches, which would hold the writer for as long (service/rehearsal.py). A
            # twin handed in (tests) was opened, and its code compiled, by its caller.
            log.info("rehearsing the reading path (after an install or upgrade it compiles "
                     "first: a minute or more)")
            try:
                seconds = await rehearse(**options())
                log.info("reading path rehearsed in %.1f s", seconds)
            except Exception:  # a failed rehearsal must not keep a site's twin from serving
                log.exception("the reading path's rehearsal failed: its code compiles on "
                              "first use")
        svc = service or TwinService.open(settings.store, **options())
        app.state.service = svc
        tokens = await asyncio.to_thread(open_token_store, svc.store.url)
        app.state.auth = Authenticator(tokens)
        await asyncio.to_thread(app.state.auth.load)
        from ..startup import start_sources

        await start_sources(svc, settings)
        await svc.start_background()
        upkeep = asyncio.create_task(Upkeep.of(settings).run(app.state.auth))
        try:
            yield
        finally:
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep
            tokens.close()
            if service is None:
                await svc.aclose()
            else:
                await svc.watch.stop()
                await svc.publisher.stop()
                for name in list(svc.connectors):
                    await svc.stop_connector(name)

    # Every route passes AccessMiddleware (api/access.py); FastAPI's own /docs pages are
    # off (they load their scripts from the internet): /docs, /redoc (api/docs_pages.py)
    # and /openapi.json (api/contract.py) are routes of ours.
    app = FastAPI(title="twinsync", version="0.1.0", lifespan=lifespan,
                  description="A live digital twin: elements, sensors, readings, events.",
                  openapi_url=None, docs_url=None, redoc_url=None,
                  # A generated client's method is the handler's name: post_readings().
                  generate_unique_id_function=contract.operation_id)
    app.add_middleware(AccessMiddleware)
    app.state.limits = Limits.from_settings(settings)
    app.state.settings = settings
    app.state.cors_origins = list(settings.cors_origins)
    app.state.rates = RateLimits.of(settings.rate_requests, settings.rate_readings)
    if settings.cors_origins:
        # Closed unless named: a page of another site may not read answers or send JSON.
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["authorization", "content-type", "x-csrf-token"])
    # Outermost: the guard and the router both route by the path as sent, an encoded
    # slash inside an id kept apart from the path's own (api/paths.py).
    app.add_middleware(EncodedSlashes)
    errors.install(app)
    app.include_router(routes_access.router, tags=["access"])
    app.include_router(routes_users.router, tags=["access"])
    app.include_router(routes_audit.router, tags=["audit"])
    app.include_router(routes_readings.router, tags=["readings"])
    app.include_router(routes_models.router, tags=["model"])
    app.include_router(routes_schedule.router, tags=["schedule"])
    app.include_router(routes_curing.router, tags=["schedule"])
    app.include_router(routes_forecast.router, tags=["twin"])
    app.include_router(routes_physics.router, tags=["twin"])
    app.include_router(routes_shadow.router, tags=["twin"])
    app.include_router(routes_twin_track.router, tags=["twin"])
    app.include_router(routes_site_events.router, tags=["trust"])
    app.include_router(routes_anomalies.router, tags=["trust"])
    app.include_router(routes_health.router, tags=["trust"])
    # After every router that names a tail after an id: /api/sensors/{sensor_id:id} takes
    # any tail, so the routes of /api/sensors/{sensor_id:id}/health and the like must be
    # tried first (api/paths.py; a test walks the routes for one that is hidden).
    app.include_router(routes_twin.router, tags=["twin"])
    app.include_router(metrics.router)
    app.include_router(ws.router)
    app.include_router(docs_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    vendor = find_vendor(settings)
    app.state.vendor = vendor
    if vendor is not None:
        app.mount("/vendor", StaticFiles(directory=vendor), name="vendor")
    else:
        log.warning("web/node_modules not found: the dashboard's 3D view needs `make install`")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        # Never from the browser's cache: a signed-out visitor must be sent to sign in.
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    app.openapi = lambda: contract.document(app)  # type: ignore[method-assign]

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> JSON:
        return JSON(app.openapi())

    return app
