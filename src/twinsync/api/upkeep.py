"""The server's upkeep of its access records: sessions and tokens long dead are removed,
and the audit log is cut to its retention (``Settings.audit_keep_days``), every
``Settings.upkeep_seconds``.

Removing keeps lookups and the authenticator's reloads small: a session is a row for
every sign-in, and without this they would pile up for ever. A token or session expired or
revoked less than ``token_grace_days`` ago stays, so ``twinsync token list`` still shows
what was revoked lately. The audit log's prune keeps its chain verifiable
(``store.audit_chain``) and is itself an entry of the log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..errors import StoreError
from ..store.audit import SYSTEM
from .auth import Authenticator

log = logging.getLogger(__name__)
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Upkeep:
    token_grace_days: float
    audit_keep_days: float | None
    every_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> Upkeep:
        return cls(settings.token_grace_days, settings.audit_keep_days,
                   settings.upkeep_seconds)

    async def once(self, auth: Authenticator) -> dict[str, Any]:
        """One round: what was removed."""
        now = auth.clock()
        store = auth.store
        removed = await asyncio.to_thread(store.prune, now - self.token_grace_days * DAY)
        done: dict[str, Any] = {"tokens_and_sessions": removed}
        if self.audit_keep_days is not None:
            pruned = await asyncio.to_thread(store.prune_audit,
                                             now - self.audit_keep_days * DAY, SYSTEM, now)
            done["audit"] = pruned.to_dict()
        return done

    async def run(self, auth: Authenticator) -> None:
        """Every ``every_seconds`` until cancelled; a round that fails is logged and the
        next one tried a period later."""
        if self.every_seconds <= 0:
            return
        while True:
            try:
                done = await self.once(auth)
                log.info("upkeep: %s", done)
            except StoreError as exc:
                log.warning("upkeep did not finish: %s", exc)
            await asyncio.sleep(self.every_seconds)
