"""A real twinsync server for the dashboard's browser test, and for working on the page.

The store is a temporary SQLite file seeded with the demo: the generated IFC building,
imported as a user's model would be (so ``/api/model.glb`` serves real GlobalId-named
geometry), with its sensors and site progress. The server runs uvicorn in a thread so a
test can stop it and start it again on the same port, as a restarted service.

Run it by hand to look at the page with the simulator streaming::

    .venv/bin/python tests/web/twin_server.py --port 8765 --simulate
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from tests.server import free_port

from twinsync.api.app import create_app
from twinsync.cli.token_cmd import create_token
from twinsync.config import Settings
from twinsync.service import TwinService
from twinsync.startup import seed_demo
from twinsync.tokens import Role


def seed(directory: Path) -> str:
    """A SQLite store in ``directory`` holding the demo twin and its model; its URL."""
    store = f"sqlite:///{directory / 'twin.sqlite'}"

    async def run() -> None:
        service = TwinService.open(store)
        try:
            await seed_demo(service)
            await service.models.glb()  # exported now, so the page's first load is not
        finally:
            await service.aclose()

    # Its own thread and loop: the caller may be inside one (Playwright's sync API is).
    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join()
    return store


def build_app(store: str, *, simulate: bool = False, **settings: Any) -> FastAPI:
    # With demo on, a twin that is not empty is not seeded again: only the simulator starts.
    return create_app(Settings(store=store, demo=simulate, **settings))


class ServerThread:
    """uvicorn in a thread: ``start()`` waits until it serves, ``stop()`` until it is gone."""

    def __init__(self, store: str, port: int, **settings: Any) -> None:
        self.store = store
        self.port = port
        self.settings = settings
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
        # An admin of the twin: the page signs in with it, the test's client sends it.
        self.token, _ = create_token(store, "dashboard tests", Role.ADMIN)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> None:
        """Serve a fresh app on the store, as a restarted process would. The first start
        in a test process compiles the kernels (health, anomaly, twin models: 20-40 s on
        a busy two-core machine with an empty numba cache), so the wait is long; a server
        that fails stops the wait at once."""
        config = uvicorn.Config(build_app(self.store, **self.settings), host="127.0.0.1",
                                port=self.port, log_level="warning", ws_ping_interval=20.0)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start on port {self.port}")
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        if self.server is None or self.thread is None:
            return
        self.server.should_exit = True  # graceful: uvicorn closes open WebSockets with 1012
        self.thread.join(timeout)
        self.server = self.thread = None


if __name__ == "__main__":  # pragma: no cover - a dev server for looking at the page
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--simulate", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="twinsync-web-"))
    url = seed(work)
    token, _ = create_token(url, "dashboard", Role.ADMIN)
    print(f"store {url}; sign in at http://127.0.0.1:{args.port}/login#token={token}",
          flush=True)
    uvicorn.run(build_app(url, simulate=args.simulate), host="127.0.0.1", port=args.port,
                log_level="warning")


@contextmanager
def serving_demo(folder: Path, **settings: Any) -> Iterator[ServerThread]:
    """A server on the demo twin seeded afresh in ``folder``, for one module's tests (each
    module its own, so no module reads what another wrote); ``settings`` as in
    ``twinsync.toml``."""
    thread = ServerThread(seed(folder), free_port(), **settings)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()
