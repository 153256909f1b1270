"""What a store says about its own state: connected or not, the last error and since when
it is down, and how many times it has reconnected (``Store.health()``)."""

from __future__ import annotations

import threading
import time
from typing import Any


class StoreHealth:
    """Connection state of a store, updated by the store as it meets errors. Thread-safe."""

    def __init__(self, backend: str) -> None:
        self._lock = threading.Lock()
        self.backend = backend
        self.connected = True
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.down_since: float | None = None
        self.reconnects = 0

    def error(self, message: str, *, lost_connection: bool) -> None:
        """Note an error; ``lost_connection``: the store is down until it reconnects."""
        now = time.time()
        with self._lock:
            self.last_error, self.last_error_at = message[:1000], now
            if lost_connection:
                self.connected = False
                if self.down_since is None:
                    self.down_since = now

    def reconnected(self) -> None:
        with self._lock:
            self.reconnects += 1

    def up(self) -> None:
        """Every connection is open again."""
        with self._lock:
            self.connected = True
            self.down_since = None

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"backend": self.backend, "connected": self.connected,
                    "last_error": self.last_error, "last_error_at": self.last_error_at,
                    "down_since": self.down_since, "reconnects": self.reconnects}
