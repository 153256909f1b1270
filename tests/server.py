"""Run ``twinsync serve`` as a real process for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A twinsync server process on a free port; ``kill()`` crashes it, ``start()`` restarts.

    An admin token is created in its store first: ``headers`` carry it, ``client()`` is an
    HTTP client that sends it."""

    def __init__(self, *args: str, cwd: Path) -> None:
        from twinsync.cli.token_cmd import create_token
        from twinsync.tokens import Role

        self.args = list(args)
        self.cwd = cwd
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = cwd / f"server-{self.port}.log"
        store = self.args[self.args.index("--store") + 1]
        self.token, _ = create_token(store, "tests admin", Role.ADMIN)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout, headers=self.headers)

    def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, "-m", "twinsync", *self.args, "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.cwd, stdout=log, stderr=log,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/project", timeout=1.0,
                             headers=self.headers).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()  # not left running behind a failed test
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """Crash the process (SIGKILL): nothing gets a chance to flush or close."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
