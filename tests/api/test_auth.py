"""The token cache when its store fails: the tokens it knows go on working, an unknown one
is refused (never an error), and a failed reload is not tried again on every request."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from twinsync.api import auth
from twinsync.api.auth import Authenticator
from twinsync.store.tokens import open_token_store
from twinsync.tokens import Role


def test_a_dead_token_store_keeps_known_tokens_and_refuses_unknown_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    store = open_token_store(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    authenticator = Authenticator(store)
    authenticator.load()

    async def scenario() -> None:
        known, _ = await authenticator.create("wall screen", Role.VIEWER)
        store.close()  # every store call fails from here on, as a lost database would
        monkeypatch.setattr(auth, "RELOAD_SECONDS", 3600.0)
        authenticator._loaded_at = -float("inf")  # stale: the next request reloads
        identity = await authenticator.identify(known)
        assert identity is not None and identity.name == "wall screen"
        assert await authenticator.identify("tws_" + "x" * 43) is None
        assert await authenticator.identify(known) is not None

    asyncio.run(scenario())
    reloads = [r for r in caplog.records if r.getMessage().startswith("tokens not reloaded")]
    lookups = [r for r in caplog.records if "could not be looked up" in r.getMessage()]
    assert len(reloads) == 1 and len(lookups) == 1
