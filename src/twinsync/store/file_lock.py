"""One process per store file: an OS lock on ``<file>.lock``, held for the store's life.

Two processes writing one SQLite file would each keep their own hot rows, sequence windows
and live state, and the twin would disagree with itself. ``flock`` is released by the OS
when the holder exits however it exits (``kill -9`` included), so a crash never leaves a
stale lock behind; the PID written into the file only names the holder in the error.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ..errors import StoreError


class FileLock:
    """An exclusive lock on ``path``, taken at once or refused with the holder's PID."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self._descriptor: int | None = None
        # Not O_TRUNC: the holder's PID must stay readable until the lock is ours.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(descriptor)
            raise StoreError(f"{what} is in use by process {holder} (lock {path}); "
                             "one process per store") from None
        except OSError as exc:
            os.close(descriptor)
            raise StoreError(f"cannot lock {path}: {exc}") from exc
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        self._descriptor = descriptor

    def release(self) -> None:
        """Unlock; safe to call twice. The file stays: removing it would race an opener
        that has it open but not yet locked."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    def __del__(self) -> None:
        # A store dropped without close() must not keep its file locked in this process.
        self.release()
