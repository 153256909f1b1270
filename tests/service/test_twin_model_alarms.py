"""A sensor's ``twin:`` divergence alarm ends with its model: a sensor unbound (or bound
to another property) while its level/trend model diverges has the alarm cleared in the
same commit, and not if that commit fails; nothing else would clear it (its model stops,
or starts afresh with nothing to end)."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsync.errors import StoreError
from twinsync.model import Binding, Transform
from twinsync.service import TwinService

from .faults import FailingStore
from .test_zone_divergence import (
    assert_not_active_after_restart,
    diverging_site,
)
from .test_zone_models import open_site

#: The heating meter's step at the window's opening diverges from its level/trend model.
KEY = "twin:room-0-kw"


def cleared(service: TwinService) -> list[str]:
    """The alarm's clearings for its model stopping (its episodes' own ends aside)."""
    return [e.data["clear_message"] for e in service.store.events(kind="alarm_cleared",
                                                                   limit=1000)
            if e.data.get("key") == KEY and "its model stopped" in e.data["clear_message"]]


@pytest.mark.parametrize("change", ["unbind", "property", "gain"])
async def test_a_sensor_unbound_or_rebound_while_its_model_diverges_has_its_alarm_cleared(
        tmp_path: Path, change: str) -> None:
    url = f"sqlite:///{tmp_path}/twin.sqlite"
    service = await open_site(url)
    try:
        await diverging_site(service)
        assert KEY in service.alarms.active
        # Bound again as it was: the model goes on, and so does its alarm.
        await service.rebind_sensor(Binding("room-0-kw", "room-0", "heating_power"))
        assert KEY in service.alarms.active
        if change == "property":
            await service.rebind_sensor(Binding("room-0-kw", "room-0", "cooling_power"))
        elif change == "gain":  # a new calibration: the model starts afresh
            await service.rebind_sensor(Binding("room-0-kw", "room-0", "heating_power",
                                                Transform(gain=1.1)))
        else:
            await service.unbind_sensor("room-0-kw")
        assert KEY not in service.alarms.active
        assert len(cleared(service)) == 1
    finally:
        await service.aclose()
    await assert_not_active_after_restart(url, KEY)


async def test_a_failed_commit_of_the_unbinding_keeps_the_sensors_alarm(tmp_path: Path) -> None:
    store = FailingStore(f"sqlite:///{tmp_path}/twin.sqlite")
    service = await open_site(TwinService(store))
    try:
        await diverging_site(service)
        store.fail_next = 1
        with pytest.raises(StoreError):
            await service.unbind_sensor("room-0-kw")
        assert KEY in service.alarms.active
        await service.unbind_sensor("room-0-kw")
        assert KEY not in service.alarms.active and len(cleared(service)) == 1
    finally:
        await service.aclose()
