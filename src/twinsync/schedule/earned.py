"""Planned versus actual, and earned value, of activities as of a date. Pure.

Planned progress is linear in work time on the activity's own calendar: an activity
planned from Monday 08:00 to Friday 16:00 on a 5x8 calendar is 50 % planned by Wednesday
12:00, and a weekend adds nothing. The standing of an activity compares its actual percent
complete with that line: it is *behind* by the work time since the date its percent was
planned for, *ahead* by the work time until then, in working days of its calendar; a
completed activity is judged by its actual finish against its planned finish.

Earned value follows the usual definitions (PMI's Practice Standard for EVM)::

    PV = BAC * planned %      EV = BAC * actual %      AC = actual cost
    SV = EV - PV   CV = EV - AC   SPI = EV / PV   CPI = EV / AC
    EAC = BAC / CPI (AC + BAC - EV while CPI is unknown)   ETC = EAC - AC
    VAC = BAC - EAC   TCPI = (BAC - EV) / (BAC - AC)

A WBS node or the project adds its activities' BAC, PV, EV and AC, and takes the ratios
of the sums. A ratio whose divisor is zero is None, not infinity; so is every figure that
needs the actual cost while none is known.

>>> value = EarnedValue(budget=1000.0, planned_value=500.0, earned_value=400.0,
...                     actual_cost=800.0)
>>> value.schedule_variance, value.cost_variance, value.spi, value.cpi
(-100.0, -400.0, 0.8, 0.5)
>>> value.estimate_at_completion, value.estimate_to_complete, value.variance_at_completion
(2000.0, 1200.0, -1000.0)
>>> value.to_complete_performance_index
3.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .calendar import WorkCalendar, WorkTime, instant

#: Within this many working days of the plan an activity is on track.
ON_TRACK_DAYS = 0.5


class Standing(StrEnum):
    AHEAD = "ahead"
    ON_TRACK = "on_track"
    BEHIND = "behind"


class WorkClock:
    """Work positions on each calendar for one analysis (one ``WorkTime`` per calendar)."""

    def __init__(self, calendars: Mapping[str, WorkCalendar], origin: datetime) -> None:
        self.calendars = calendars
        self._origin_day = origin.toordinal()
        self._times: dict[str, WorkTime] = {}

    def position(self, calendar_id: str, moment: datetime) -> int:
        """Minutes of work on the calendar from the origin's midnight to ``moment``."""
        work = self._times.get(calendar_id)
        if work is None:
            work = self._times[calendar_id] = WorkTime(self.calendars[calendar_id],
                                                       self._origin_day, span_days=400)
        return work.position(instant(moment))

    def minutes_per_day(self, calendar_id: str) -> float:
        return max(self.calendars[calendar_id].hours_per_day, 1e-9) * 60.0


def planned_percent(clock: WorkClock, calendar_id: str, start: datetime, finish: datetime,
                    as_of: datetime) -> float:
    """How much of an activity the plan has done by ``as_of`` (0..100), linear in work."""
    if finish <= start:  # a milestone: nothing, then all of it
        return 100.0 if as_of >= finish else 0.0
    first = clock.position(calendar_id, start)
    last = clock.position(calendar_id, finish)
    if last <= first:
        return 100.0 if as_of >= finish else 0.0
    now = clock.position(calendar_id, as_of)
    return max(0.0, min(100.0, 100.0 * (now - first) / (last - first)))


@dataclass(frozen=True, slots=True)
class Variance:
    """Where an activity stands against its plan as of a date."""

    standing: Standing
    days: float  # working days ahead or behind (0 when on track)
    planned_percent: float
    actual_percent: float

    def to_dict(self) -> dict[str, Any]:
        return {"standing": self.standing.value, "days": round(self.days, 2),
                "planned_percent": round(self.planned_percent, 2),
                "actual_percent": round(self.actual_percent, 2)}


def variance(clock: WorkClock, calendar_id: str, start: datetime, finish: datetime,
             as_of: datetime, actual_percent: float,
             actual_finish: datetime | None = None, planned: float | None = None
             ) -> Variance:
    """Ahead, on track or behind, and by how many working days (see the module's text).

    >>> from .calendar import standard_week
    >>> site = WorkCalendar("site", "Site", standard_week(8 * 60, 16 * 60))
    >>> clock = WorkClock({"site": site}, datetime(2026, 3, 2))
    >>> monday, friday = datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 16)
    >>> variance(clock, "site", monday, friday, datetime(2026, 3, 4, 12), 20.0).to_dict()
    {'standing': 'behind', 'days': 1.5, 'planned_percent': 50.0, 'actual_percent': 20.0}
    """
    if planned is None:  # the caller may have it already (``planned_percent``)
        planned = planned_percent(clock, calendar_id, start, finish, as_of)
    per_day = clock.minutes_per_day(calendar_id)
    planned_finish = clock.position(calendar_id, finish)
    if actual_percent >= 100.0:
        done = actual_finish if actual_finish is not None else as_of
        late = clock.position(calendar_id, done) - planned_finish
    elif actual_percent == planned:
        late = 0
    else:
        planned_start = clock.position(calendar_id, start)
        # the date the plan reaches this activity's actual percent
        reached = planned_start + actual_percent / 100.0 * (planned_finish - planned_start)
        late = clock.position(calendar_id, as_of) - reached  # type: ignore[assignment]
    days = late / per_day
    if abs(days) < ON_TRACK_DAYS:
        return Variance(Standing.ON_TRACK, 0.0, planned, actual_percent)
    return Variance(Standing.BEHIND if days > 0 else Standing.AHEAD, abs(days), planned,
                    actual_percent)


@dataclass(frozen=True, slots=True)
class EarnedValue:
    """Budget at completion, planned value, earned value and actual cost, and what follows.

    ``actual_cost`` is None while no cost is known (a schedule measured in hours whose
    actual hours nobody reported): then every figure that needs it is None too, rather
    than a figure computed from a cost of nothing."""

    budget: float
    planned_value: float
    earned_value: float
    actual_cost: float | None

    @classmethod
    def of(cls, budget: float, planned_percent: float, actual_percent: float,
           actual_cost: float | None) -> EarnedValue:
        return cls(budget, budget * planned_percent / 100.0, budget * actual_percent / 100.0,
                   actual_cost)

    @classmethod
    def total(cls, values: Iterable[EarnedValue]) -> EarnedValue:
        """The sum; its actual cost is the sum of those known (None if none is)."""
        budget = planned = earned = 0.0
        actual: float | None = None
        for value in values:
            budget += value.budget
            planned += value.planned_value
            earned += value.earned_value
            if value.actual_cost is not None:
                actual = (actual or 0.0) + value.actual_cost
        return cls(budget, planned, earned, actual)

    @property
    def schedule_variance(self) -> float:
        return self.earned_value - self.planned_value

    @property
    def cost_variance(self) -> float | None:
        return None if self.actual_cost is None else self.earned_value - self.actual_cost

    @property
    def spi(self) -> float | None:
        return _ratio(self.earned_value, self.planned_value)

    @property
    def cpi(self) -> float | None:
        return None if self.actual_cost is None else _ratio(self.earned_value,
                                                           self.actual_cost)

    @property
    def estimate_at_completion(self) -> float | None:
        if self.actual_cost is None:
            return None
        cpi = self.cpi
        if cpi is None or cpi == 0:
            # No cost performance known yet: what is spent, and the rest at budget.
            return self.actual_cost + self.budget - self.earned_value
        return self.budget / cpi

    @property
    def estimate_to_complete(self) -> float | None:
        estimate = self.estimate_at_completion
        return None if estimate is None or self.actual_cost is None else (
            estimate - self.actual_cost)

    @property
    def variance_at_completion(self) -> float | None:
        estimate = self.estimate_at_completion
        return None if estimate is None else self.budget - estimate

    @property
    def to_complete_performance_index(self) -> float | None:
        if self.actual_cost is None:
            return None
        return _ratio(self.budget - self.earned_value, self.budget - self.actual_cost)

    def to_dict(self) -> dict[str, float | None]:
        return {"bac": _money(self.budget), "pv": _money(self.planned_value),
                "ev": _money(self.earned_value), "ac": _money(self.actual_cost),
                "sv": _money(self.schedule_variance), "cv": _money(self.cost_variance),
                "spi": _index(self.spi), "cpi": _index(self.cpi),
                "eac": _money(self.estimate_at_completion),
                "etc": _money(self.estimate_to_complete),
                "vac": _money(self.variance_at_completion),
                "tcpi": _index(self.to_complete_performance_index)}


#: The figures of ``EarnedValue.to_dict``, in report order.
EVM_FIELDS = ("bac", "pv", "ev", "ac", "sv", "cv", "spi", "cpi", "eac", "etc", "vac", "tcpi")


def _ratio(numerator: float, denominator: float) -> float | None:
    if abs(denominator) < 1e-9:
        return None
    return numerator / denominator


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0  # no -0.0


def _index(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
