"""A transaction's proposed change, and store writes as the transaction runner sees them:
committed whole, or ``StoreError``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import StoreError, TwinsyncError
from ..model import Binding, Element, Event, Sensor
from ..model.plan_records import PlanRow
from ..store.audit import AuditEntry


@dataclass(slots=True)
class Change:
    """A proposed change of the twin: its events, the rows the store must save, the audit
    entries that record who made it, and (set by the writer) the revisions it leaves."""

    events: list[Event]
    elements: Sequence[Element] = ()
    sensors: Sequence[Sensor] = ()
    bindings: Sequence[Binding] = ()
    unbound: Sequence[str] = ()
    audit: list[AuditEntry] = field(default_factory=list)
    plan: Sequence[PlanRow] = ()  # rows of the twin's schedule (``model.plan_records``)
    revisions: dict[str, int] = field(default_factory=dict)


def commit_store(commit: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Call a store write; anything it raises that is not ours becomes ``StoreError``, so
    that every failed commit reaches the caller as "nothing was kept, try again"."""
    try:
        commit(*args, **kwargs)
    except TwinsyncError:
        raise
    except Exception as exc:
        raise StoreError(f"the store could not commit: {type(exc).__name__}: {exc}") from exc
