"""A throw-away Mosquitto of our own: its config, its persistence file, and a ``kill -9``.

Benches and tests that crash or load a broker must not touch the shared one on 1883, so
they start this one on another port with a config file and a persistence folder under a
temporary directory. ``kill()`` is SIGKILL (nothing is saved on the way down);
``start()`` again reads what the last autosave left.

>>> print(Mosquitto.config_text(18831, "/tmp/x", {"max_queued_messages": 0}))
listener 18831 127.0.0.1
allow_anonymous true
persistence true
persistence_location /tmp/x/
log_dest stderr
max_queued_messages 0
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

MOSQUITTO_DEFAULTS: dict[str, object] = {}
"""Mosquitto 2.0 as shipped, but for persistence: max_queued_messages 1000,
max_inflight_messages 20, autosave_interval 1800 s, queue_qos0_messages false."""

LOSSLESS: dict[str, object] = {
    "max_queued_messages": 0,
    "max_queued_bytes": 0,
    "max_inflight_messages": 0,
    "autosave_interval": 1,
    "persistent_client_expiration": "7d",
}
"""The settings docs/INGEST.md recommends (with the measured figures). ``autosave_interval
1`` is a save every second, not ``autosave_on_changes``, which saves the whole state once
per message and stalled the broker under load."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mosquitto:
    """One mosquitto process on ``port`` with persistence in ``folder``."""

    def __init__(self, folder: Path, port: int | None = None,
                 options: Mapping[str, object] | None = None) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.options = dict(options or {})
        self.folder.mkdir(parents=True, exist_ok=True)
        # Started as root, mosquitto drops to its own user: it must still be able to
        # write its persistence file here, or every save fails and a kill loses it all.
        self.folder.chmod(0o777)
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text(self.config_text(self.port, str(self.folder), self.options))
        self.log = self.folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def config_text(port: int, folder: str, options: Mapping[str, object]) -> str:
        lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence true",
                 f"persistence_location {folder.rstrip('/')}/", "log_dest stderr"]
        lines += [f"{key} {value}" for key, value in options.items()]
        return "\n".join(lines)

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait until it accepts connections (a big persistence file takes
        a while to load)."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([binary, "-c", str(self.config)],
                                            stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def log_count(self, text: str) -> int:
        """Lines of the broker's log containing ``text`` (its saves, its save errors)."""
        try:
            return sum(text in line for line in self.log.read_text().splitlines())
        except OSError:
            return 0

    def kill(self) -> None:
        """SIGKILL: no save on the way down, as in a power cut or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its state and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.kill()
