"""The token cache when its store fails: the tokens it knows go on working, an unknown one
is refused (never an error), and a failed reload is not tried again on every request. An
unknown token costs one store query, however often it is sent, and made-up tokens from
one address stop reaching the store."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from twinsync.api import auth
from twinsync.api.auth import Authenticator
from twinsync.cli.token_cmd import create_token
from twinsync.store.tokens import SQLiteTokens, open_token_store
from twinsync.tokens import Role, TokenRecord


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


class CountedTokens(SQLiteTokens):
    """The SQLite tokens, counting the lookups of single digests."""

    finds = 0

    def find(self, digest: bytes) -> TokenRecord | None:
        self.finds += 1
        return super().find(digest)


def made_up(number: int) -> str:
    return "tws_" + f"{number:043d}"


def test_an_unknown_token_sent_again_and_again_costs_one_store_query(
        tmp_path: Path) -> None:
    store = CountedTokens(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    authenticator = Authenticator(store, unknown_kept=3)
    authenticator.load()

    async def scenario() -> None:
        for _ in range(100):
            assert await authenticator.identify(made_up(1), client="10.0.0.7") is None
        assert store.finds == 1
        # The memory is bounded: the oldest unknown digest is forgotten first.
        for number in (2, 3, 4):
            await authenticator.identify(made_up(number), client="10.0.0.7")
        assert store.finds == 4
        await authenticator.identify(made_up(4), client="10.0.0.7")
        assert store.finds == 4
        await authenticator.identify(made_up(1), client="10.0.0.7")
        assert store.finds == 5

    asyncio.run(scenario())
    store.close()


def test_made_up_tokens_from_one_address_stop_reaching_the_store_and_others_still_do(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    store = CountedTokens(url)
    authenticator = Authenticator(store)
    authenticator.load()

    async def scenario() -> None:
        for number in range(200):
            assert await authenticator.identify(made_up(number), client="10.0.0.7") is None
        # A burst of twice the rate, and what refilled while the loop ran.
        burst = 2 * auth.LOOKUPS_PER_SECOND
        assert burst <= store.finds <= burst + 5
        # Another address is not slowed, and a token made by another process (unknown
        # to this cache) works at once from it.
        secret, _ = create_token(url, "made elsewhere", Role.VIEWER)
        before = store.finds
        identity = await authenticator.identify(secret, client="10.0.0.8")
        assert identity is not None and store.finds == before + 1
        # A token already known is never limited.
        for _ in range(50):
            assert await authenticator.identify(secret, client="10.0.0.7") is not None

    asyncio.run(scenario())
    store.close()
