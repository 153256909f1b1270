"""A zone's divergence alarm ends with the zone, and follows what was told across a crash: a
space that stops being a zone in an episode (its air temperature sensor unbound, the
outdoor source unbound) has its ``zone:`` alarm cleared in the same commit, and not if that
commit fails; an alarm left by a version that did not clear it is cleared at start-up; a
zone state saved before an episode's start or end (the last periodic save before a crash)
is set in or out of its episode by the alarm the store holds."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsync.errors import StoreError
from twinsync.model import Binding, Element, Event, Sensor
from twinsync.service import TwinService
from twinsync.service.zone_models import ZONE_SNAPSHOT
from twinsync.store import open_store

from .faults import FailingStore
from .test_zone_divergence import (
    OPENED,
    assert_not_active_after_restart,
    diverging_site,
    feed,
    simulated,
)
from .test_zone_models import open_site

KEY = "zone:room-0"


def cleared(service: TwinService) -> list[Event]:
    return [e for e in service.store.events(kind="alarm_cleared", limit=1000)
            if e.data.get("key") == KEY]


@pytest.mark.parametrize("sensor", ["room-0-t", "weather"])
async def test_a_zone_that_stops_being_one_in_an_episode_has_its_alarm_cleared(
        tmp_path: Path, sensor: str) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_site(url)
    try:
        await diverging_site(service)
        assert KEY in service.alarms.active
        await service.unbind_sensor(sensor)
        assert "room-0" not in service.zones.index
        assert KEY not in service.alarms.active
        (event,) = cleared(service)
        assert "no longer a thermal zone" in event.data["clear_message"]
    finally:
        await service.aclose()
    await assert_not_active_after_restart(url, KEY)


async def test_a_failed_commit_of_the_unbinding_keeps_the_alarm_and_a_retry_clears_it(
        tmp_path: Path) -> None:
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    try:
        await diverging_site(service)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.unbind_sensor("room-0-t")
        assert KEY in service.alarms.active and "room-0" in service.zones.index
        await service.unbind_sensor("room-0-t")
        assert KEY not in service.alarms.active
        assert len(cleared(service)) == 1
    finally:
        await service.aclose()


async def test_an_alarm_left_on_an_element_that_is_no_zone_is_cleared_at_start_up(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_site(url)
    await service.unbind_sensor("room-0-t")
    await service.aclose()
    # As a version that did not clear it left it: raised, the zone gone since.
    store = open_store(url)
    store.save_changes([Event("alarm_raised", 1.0, "room-0", "twinsync", {
        "key": KEY, "severity": "warning", "message": "off its model", "raised_at": 1.0,
        "element_id": "room-0", "acknowledged_at": None, "acknowledged_by": None,
        "updated_at": 1.0})])
    store.close()
    restarted = TwinService.open(url)
    try:
        assert KEY not in restarted.alarms.active
        assert len(cleared(restarted)) == 1
    finally:
        await restarted.aclose()
    again = TwinService.open(url)
    try:
        assert KEY not in again.alarms.active and len(cleared(again)) == 1
    finally:
        await again.aclose()


def put_back(url: str, body: bytes) -> None:
    """The zone state as the last periodic save left it before a crash."""
    store = open_store(url)
    store.save_snapshot(ZONE_SNAPSHOT, body)
    store.close()


def without_episodes(body: bytes) -> bytes:
    """A zone state as saved just before its episodes started: the zones as they are,
    none in an episode."""
    with np.load(io.BytesIO(body), allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    arrays["column_episode"] = np.zeros_like(arrays["column_episode"])
    arrays["column_quiet_run"] = np.zeros_like(arrays["column_quiet_run"])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


async def test_a_crash_after_an_episode_started_still_clears_its_alarm_once_back_in_control(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    data = simulated(days=6)
    service = await open_site(url)
    try:
        await feed(service, data, range(OPENED + 24))
        assert KEY in service.alarms.active
        body = service.zones.dump()
        assert body is not None
    finally:
        await service.aclose()
    put_back(url, without_episodes(body))
    restarted = await open_site(url)
    try:
        at_restart = (await restarted.zones.of_element("room-0"))["divergence"]["state"]
        await feed(restarted, data, range(OPENED + 24, 6 * 96))
        assert KEY not in restarted.alarms.active
        assert len(cleared(restarted)) == 1
        assert (await restarted.zones.of_element("room-0"))["divergence"]["state"] == (
            "in_control")
        # The alarm the store held was what had been told: the zone was in that episode.
        assert at_restart == "diverging"
    finally:
        await restarted.aclose()


async def test_a_crash_after_an_episode_ended_leaves_the_zone_in_control(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    data = simulated(days=7)
    service = await open_site(url)
    try:
        await feed(service, data, range(OPENED + 24))
        body = service.zones.dump()
        assert body is not None
        await feed(service, data, range(OPENED + 24, 7 * 96))
        assert KEY not in service.alarms.active
    finally:
        await service.aclose()
    put_back(url, body)
    restarted = await open_site(url)
    try:
        # Saved mid-episode, but its end was told: no episode (the zone a fusion source
        # again, and a new divergence told as one).
        assert (await restarted.zones.of_element("room-0"))["divergence"]["state"] == (
            "in_control")
        assert restarted.zones.bank.columns["episode"].tolist() == [0.0, 0.0, 0.0]
        assert np.all(restarted.zones.bank.columns["quiet_run"] == 0)
    finally:
        await restarted.aclose()


async def test_a_failed_commit_at_the_episodes_end_leaves_it_and_its_alarm_to_end_once(
        tmp_path: Path) -> None:
    # The start's failed commit is tested with the watch (test_zone_divergence); here every
    # batch till the end fails once first: the batch that ends the episode among them.
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    data = simulated(days=7)
    try:
        await feed(service, data, range(OPENED + 24))
        assert KEY in service.alarms.active
        told: list[Event] = []
        for first in range(OPENED + 24, 7 * 96, 8):
            before = service.zones.bank.take(np.arange(3))
            store.fail_next = 1
            with pytest.raises(StoreError):
                await feed(service, data, range(first, first + 8))
            after = service.zones.bank.take(np.arange(3))
            for name, column in before.items():
                assert np.array_equal(after[name], column, equal_nan=True), name
            told += await feed(service, data, range(first, first + 8))
        assert [e.kind for e in told if e.data.get("key") == KEY] == ["alarm_cleared"]
        assert KEY not in service.alarms.active
        assert len(cleared(service)) == 1
    finally:
        await service.aclose()


async def test_zones_renumbered_in_an_episode_keep_it_and_its_alarm_ends_once(
        tmp_path: Path) -> None:
    # Mid-episode a new space is bound that sorts before room-0 (every zone moves up a
    # row) and room-0 gets a second air sensor: the episode goes on in room-0's new row,
    # and is ended once, its alarm with it.
    data = simulated(days=7)
    service = await open_site(f"sqlite:///{tmp_path}/twin.sqlite")
    try:
        await feed(service, data, range(OPENED + 24))
        assert KEY in service.alarms.active
        await service.import_project(
            [Element("a-room", "IfcSpace", parent="block")],
            [Sensor("a-room-t", "air_temperature", "degC", 900.0),
             Sensor("room-0-t2", "air_temperature", "degC", 900.0)],
            [Binding("a-room-t", "a-room", "air_temperature"),
             Binding("room-0-t2", "room-0", "air_temperature")])
        assert service.zones.index["room-0"] == 1 and KEY in service.alarms.active
        view = await service.zones.of_element("room-0")
        assert view["divergence"]["state"] == "diverging"
        assert view["sensors"] == ["room-0-t", "room-0-t2"]
        await feed(service, data, range(OPENED + 24, 7 * 96))
        assert KEY not in service.alarms.active and len(cleared(service)) == 1
    finally:
        await service.aclose()


async def test_a_zone_alarm_is_cleared_when_the_service_starts_with_the_zones_off(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_site(url)
    try:
        await diverging_site(service)
        assert KEY in service.alarms.active
    finally:
        await service.aclose()
    off = TwinService.open(url, zone_models=False)
    try:
        # Nothing watches the zone: its alarm would never be cleared.
        assert KEY not in off.alarms.active
        (event,) = cleared(off)
        assert "zone models are off" in event.data["clear_message"]
    finally:
        await off.aclose()


_DATA = simulated(days=7)
_ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("feed"), st.integers(1, 12)),
    st.tuples(st.sampled_from(["unbind", "bind", "restart", "crash", "fail"]),
              st.just(0))), min_size=3, max_size=8)


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=_ACTIONS)
def test_a_zones_alarm_is_active_exactly_while_it_is_a_zone_in_an_episode(
        tmp_path_factory: pytest.TempPathFactory, actions: list[tuple[str, int]]) -> None:
    """Whatever a site does in and after an episode (readings, the room's sensor unbound
    and bound again, a clean restart, a crash that goes back to the zone state saved
    before the episode, a failed commit), after each step the room's ``zone:`` alarm is
    active exactly while the room is a zone in an episode."""
    url = f"sqlite:///{tmp_path_factory.mktemp('zones')}/twin.sqlite"
    asyncio.run(_play(url, actions))


async def _play(url: str, actions: list[tuple[str, int]]) -> None:
    store = FailingStore(url)
    service = await open_site(TwinService(store))
    # The zone state last saved before the episode (a crash goes back to it), the
    # episode under way when the site's steps begin.
    await feed(service, _DATA, range(OPENED - 16))
    saved = service.zones.dump()
    at = OPENED + 24
    await feed(service, _DATA, range(OPENED - 16, at))
    assert KEY in service.alarms.active
    try:
        for action, size in actions:
            if action == "feed" and at < 7 * 96:
                stop = min(at + 8 * size, 7 * 96)
                await feed(service, _DATA, range(at, stop))
                at = stop
            elif action == "unbind" and "room-0-t" in service.twin.bindings:
                await service.unbind_sensor("room-0-t")
            elif action == "bind" and "room-0-t" not in service.twin.bindings:
                await service.bind_sensor(Binding("room-0-t", "room-0", "air_temperature"))
            elif action in ("restart", "crash"):
                await service.aclose()
                if action == "crash" and saved is not None:
                    put_back(url, saved)
                store = FailingStore(url)
                service = TwinService(store)
            elif action == "fail" and at < 7 * 96:
                store.fail_next = 1
                with pytest.raises(StoreError):
                    await feed(service, _DATA, range(at, min(at + 8, 7 * 96)))
            if action == "restart":
                saved = service.zones.dump()
            k = service.zones.index.get("room-0")
            episode = k is not None and bool(service.zones.bank.columns["episode"][k] > 0)
            assert (KEY in service.alarms.active) == episode, (action, at)
    finally:
        await service.aclose()
