"""Optimistic concurrency in the service: every change of an element or a binding adds one
to its revision, committed with the change; a write made against a stale revision is
refused and changes nothing; of writers racing on one revision exactly one wins; the
revisions survive a restart on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twinsync.errors import StaleRevision, StoreError
from twinsync.model import Binding, Element, Sensor
from twinsync.service import TwinService
from twinsync.service.revisions import Match
from twinsync.store.audit import Actor, AuditQuery

from .faults import FailingStore, live_state

OPERATOR = Actor("tablet-3", "operator", "t0ken0000001")


async def small_twin(service: TwinService) -> None:
    await service.add_element(Element("slab-1", "IfcSlab"))
    await service.add_element(Element("slab-2", "IfcSlab"))
    await service.add_sensor(Sensor("t-1", "temperature", "degC"))
    await service.bind_sensor(Binding("t-1", "slab-1", "core_temperature"))


async def test_each_change_of_an_element_or_binding_adds_one_to_its_revision(
        tmp_path: Path) -> None:
    async with TwinService.open(f"sqlite:///{tmp_path / 'twin.db'}") as service:
        await small_twin(service)
        revisions = service.revisions
        assert (revisions.element("slab-1"), revisions.binding("t-1")) == (1, 1)
        await service.update_element("slab-1", status="in_progress")
        await service.update_element("slab-1", properties={"note": "poured"})
        assert revisions.element("slab-1") == 3
        assert revisions.element("slab-2") == 1
        await service.rebind_sensor(Binding("t-1", "slab-2", "core_temperature"))
        await service.unbind_sensor("t-1")
        assert revisions.binding("t-1") == 3
        # Bound again, it goes on from where it was: an old If-Match never matches it.
        await service.rebind_sensor(Binding("t-1", "slab-1", "core_temperature"))
        assert revisions.binding("t-1") == 4


async def test_a_write_against_a_stale_revision_is_refused_and_changes_nothing(
        tmp_path: Path) -> None:
    async with TwinService.open(f"sqlite:///{tmp_path / 'twin.db'}") as service:
        await small_twin(service)
        await service.update_element("slab-1", status="in_progress", if_match=Match.of(1))
        before = live_state(service)
        audited = service.store.audit(AuditQuery(limit=1000))
        events = service.store.counts()["events"]
        with pytest.raises(StaleRevision) as stale:
            await service.update_element("slab-1", status="issue", if_match=Match.of(1))
        assert stale.value.current == 2
        with pytest.raises(StaleRevision):
            await service.rebind_sensor(Binding("t-1", "slab-2", "x"), if_match=Match.of(7))
        with pytest.raises(StaleRevision):
            await service.unbind_sensor("t-1", if_match=Match.of(0))
        assert live_state(service) == before
        assert service.twin.elements["slab-1"].status.value == "in_progress"
        assert service.twin.bindings["t-1"].element_id == "slab-1"
        assert (service.revisions.element("slab-1"), service.revisions.binding("t-1")) == (2, 1)
        assert service.store.audit(AuditQuery(limit=1000)) == audited
        assert service.store.counts()["events"] == events


async def test_if_match_any_needs_the_thing_to_exist(tmp_path: Path) -> None:
    async with TwinService.open(f"sqlite:///{tmp_path / 'twin.db'}") as service:
        await small_twin(service)
        await service.update_element("slab-1", status="issue", if_match=Match(any=True))
        await service.add_sensor(Sensor("t-2", "temperature", "degC"))
        with pytest.raises(StaleRevision):  # not bound: there is no binding to match
            await service.rebind_sensor(Binding("t-2", "slab-1", "x"), if_match=Match(any=True))
        assert "t-2" not in service.twin.bindings


async def test_revisions_and_the_audit_log_survive_a_restart(store_url: str) -> None:
    async with TwinService.open(store_url) as service:
        await small_twin(service)
        await service.update_element("slab-1", status="in_progress", actor=OPERATOR)
        await service.update_element("slab-1", properties={"note": "poured"}, actor=OPERATOR)
        await service.unbind_sensor("t-1")
        entries = service.store.audit(AuditQuery(limit=1000))
    async with TwinService.open(store_url) as service:
        assert service.revisions.element("slab-1") == 3
        assert service.revisions.binding("t-1") == 2
        with pytest.raises(StaleRevision):
            await service.update_element("slab-1", status="issue", if_match=Match.of(2))
        await service.update_element("slab-1", status="issue", if_match=Match.of(3))
        assert service.revisions.element("slab-1") == 4
        again = service.store.audit(AuditQuery(limit=1000))
        assert again[:len(entries)] == entries
        assert [e.operation for e in again[len(entries):]] == ["update_element"]


@pytest.fixture
async def failing(tmp_path: Path) -> AsyncIterator[tuple[TwinService, FailingStore]]:
    store = FailingStore(f"sqlite:///{tmp_path / 'twin.sqlite'}")
    service = TwinService(store)
    await small_twin(service)
    yield service, store
    await service.aclose()


async def test_a_failed_commit_writes_no_audit_entry_and_moves_no_revision(
        failing: tuple[TwinService, FailingStore]) -> None:
    service, store = failing
    audited = store.audit(AuditQuery(limit=1000))
    changes = [
        service.update_element("slab-1", status="issue", actor=OPERATOR),
        service.rebind_sensor(Binding("t-1", "slab-2", "core_temperature"), actor=OPERATOR),
        service.unbind_sensor("t-1", actor=OPERATOR),
        service.add_element(Element("slab-3", "IfcSlab"), actor=OPERATOR),
        service.add_sensor(Sensor("t-9", "temperature", "degC"), actor=OPERATOR),
    ]
    for change in changes:
        store.fail_next = 1
        with pytest.raises(StoreError):
            await change
    assert store.failures == len(changes)
    assert store.audit(AuditQuery(limit=1000)) == audited
    assert (service.revisions.element("slab-1"), service.revisions.binding("t-1")) == (1, 1)
    assert service.revisions.element("slab-3") == 0
    # The same change sent again is kept, with its entry and its new revision.
    await service.update_element("slab-1", status="issue", actor=OPERATOR)
    latest = store.audit(AuditQuery(newest_first=True, limit=1))[0]
    assert (latest.operation, latest.actor, latest.after) == (
        "update_element", OPERATOR, {"status": "issue"})
    assert service.revisions.element("slab-1") == 2


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(writers=st.integers(min_value=2, max_value=6),
       rounds=st.integers(min_value=1, max_value=4))
def test_of_writers_racing_on_one_revision_exactly_one_wins(
        tmp_path_factory: pytest.TempPathFactory, writers: int, rounds: int) -> None:
    folder = tmp_path_factory.mktemp("race")

    async def race() -> None:
        async with TwinService.open(f"sqlite:///{folder / 'twin.db'}") as service:
            await small_twin(service)
            for _ in range(rounds):
                seen = service.revisions.element("slab-1")
                attempts = [service.update_element(
                    "slab-1", properties={"writer": n}, if_match=Match.of(seen),
                    actor=Actor(f"writer-{n}", "operator", f"id-{n}"))
                    for n in range(writers)]
                outcomes = await asyncio.gather(*attempts, return_exceptions=True)
                won = [n for n, o in enumerate(outcomes) if not isinstance(o, BaseException)]
                lost = [o for o in outcomes if isinstance(o, BaseException)]
                assert len(won) == 1, outcomes
                assert all(isinstance(o, StaleRevision) and o.current == seen + 1
                           for o in lost), lost
                assert service.revisions.element("slab-1") == seen + 1
                value = service.twin.elements["slab-1"].properties["writer"].value
                assert value == won[0]
                entry = service.store.audit(AuditQuery(newest_first=True, limit=1))[0]
                assert entry.actor.name == f"writer-{won[0]}"
                assert entry.after == {"properties": {"writer": entry.after["properties"][
                    "writer"]}} and entry.after["properties"]["writer"]["value"] == won[0]

    asyncio.run(race())


async def test_acknowledging_an_alarm_is_audited_with_the_person_who_did_it(
        tmp_path: Path) -> None:
    async with TwinService.open(f"sqlite:///{tmp_path / 'twin.db'}") as service:
        event = service.alarms.raise_("latency:gw", "warning", "slow", time=1.0)
        assert event is not None
        service.store.save_changes([event])
        await service.acknowledge_alarm("latency:gw", by="tablet-3", actor=OPERATOR)
        [entry] = service.store.audit(AuditQuery())
        assert (entry.operation, entry.target, entry.actor, entry.after) == (
            "acknowledge_alarm", "alarm:latency:gw", OPERATOR, {"acknowledged_by": "tablet-3"})
