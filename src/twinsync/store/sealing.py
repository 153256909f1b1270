"""When and how hot readings are sealed: the part of the tiered layout every store shares.

A store appends committed readings to its hot rows; once ``seal_threshold()`` have gathered
a background thread seals them (``_seal_once``, the store's own write), and if sealing has
fallen so far behind that ``MAX_HOT_ROWS`` are hot, the committing source waits for a seal
in the foreground rather than memory grow. A failed background seal loses nothing — the
journal still holds every reading — and is retried; ``seal()`` reports it.
"""

from __future__ import annotations

import logging
import threading

from ..errors import StoreError
from .tiers import HotRows

log = logging.getLogger(__name__)

#: Hot readings beyond which a commit waits for a seal instead of letting memory grow.
MAX_HOT_ROWS = 4_000_000


class Sealing:
    """Mixin: the sealing lifecycle. The store provides ``_seal_once(background)``:
    ``background`` is true in the sealing thread, beside ingest commits, and false when a
    caller waits for the seal (``seal()``, or a commit held back by ``MAX_HOT_ROWS``)."""

    seal_rows: int
    _hot: HotRows

    def _init_sealing(self, thread_name: str) -> None:
        self._hot_lock = threading.Lock()
        self._seal_lock = threading.Lock()
        self._sealer: threading.Thread | None = None
        self._seal_error: BaseException | None = None
        self._seal_thread_name = thread_name

    def _seal_once(self, background: bool) -> int:
        raise NotImplementedError

    def _after_commit(self, hot: int) -> None:
        """Called with the number of hot rows after a commit appended to them."""
        if hot >= MAX_HOT_ROWS:
            self.seal()  # sealing has fallen behind: the source waits rather than memory grow
        elif hot >= self.seal_threshold():
            self._seal_in_background()

    def seal_threshold(self) -> int:
        """Hot rows to gather before sealing: ``seal_rows``, or the fleet size if larger."""
        return min(max(self.seal_rows, self._hot.sensor_span), MAX_HOT_ROWS)

    def _seal_in_background(self) -> None:
        if self._sealer is not None and self._sealer.is_alive():
            return
        self._sealer = threading.Thread(target=self._seal_quietly,
                                        name=self._seal_thread_name, daemon=True)
        self._sealer.start()

    def _seal_quietly(self) -> None:
        try:
            self._seal_once(background=True)
        except BaseException as exc:  # the journal still holds every reading: retry later
            log.exception("sealing hot readings failed")
            self._seal_error = exc

    def _join_sealer(self) -> None:
        if self._sealer is not None:
            self._sealer.join()

    def seal(self) -> int:
        """Seal every hot reading now; returns how many were sealed."""
        self._join_sealer()
        error, self._seal_error = self._seal_error, None
        sealed = self._seal_once(background=False)
        if error is not None and sealed == 0:
            raise StoreError(f"sealing failed: {error}") from error
        return sealed
