"""Work calendars and work-time arithmetic, in whole minutes.

A ``WorkCalendar`` says when work happens: periods per weekday and exceptions per date
(a holiday has no periods; a changed day has its own). ``WorkTime`` answers the questions a
scheduler asks of one calendar, fast: how much work lies before an instant (its *position*),
and which instant a position falls on. Instants are minutes since day 1 of the proleptic
Gregorian calendar (``date.toordinal() * 1440 + minute of day``), naive local time as P6
keeps it; positions are minutes of work counted from the data date's midnight.

One position covers every instant of a non-working stretch, so it has two faces:
``finish_at`` is the first of them (work just done: Friday 16:00) and ``start_at`` the last
(work about to resume: Monday 08:00). Finishes take the first, starts the second, which is
how P6 shows dates.

>>> week = standard_week(8 * 60, 16 * 60)
>>> work = WorkTime(WorkCalendar("std", "Standard", week), origin_day=date(2026, 3, 2).toordinal())
>>> friday_end = work.finish_at(5 * 8 * 60)
>>> format_instant(friday_end), format_instant(work.start_at(5 * 8 * 60))
('2026-03-06 16:00', '2026-03-09 08:00')
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from ..errors import InvalidInput

MINUTES_PER_DAY = 1440

#: A stretch of work within one day: (start, end) in minutes after midnight, end > start.
Period = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """When work happens. ``week`` has seven entries, Monday first, as ``date.weekday()``."""

    id: str
    name: str
    week: tuple[tuple[Period, ...], ...]
    exceptions: Mapping[date, tuple[Period, ...]] = field(default_factory=dict)
    hours_per_day: float = 8.0

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise InvalidInput(f"calendar {self.id}: a week has 7 days, not {len(self.week)}",
                               "bad_calendar")
        for periods in (*self.week, *self.exceptions.values()):
            for start, end in periods:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise InvalidInput(f"calendar {self.id}: bad work period {start}-{end}",
                                       "bad_calendar")
        if not any(self.week):
            raise InvalidInput(f"calendar {self.id} ({self.name}) has no working day in its "
                               "week: nothing could ever be scheduled on it", "bad_calendar")

    def periods_on(self, day: date) -> tuple[Period, ...]:
        found = self.exceptions.get(day)
        return found if found is not None else self.week[day.weekday()]


def standard_week(start: int, end: int, days: int = 5) -> tuple[tuple[Period, ...], ...]:
    """A week working ``start``-``end`` (minutes) on its first ``days`` days from Monday."""
    return tuple(((start, end),) if weekday < days else () for weekday in range(7))


def twenty_four_hour(calendar_id: str = "24h") -> WorkCalendar:
    """Every minute of every day works: the calendar lags may be counted on."""
    return WorkCalendar(calendar_id, "24 hours", tuple(((0, MINUTES_PER_DAY),)
                                                      for _ in range(7)), {}, 24.0)


def instant(moment: datetime) -> int:
    """A naive local datetime as minutes since day 1 (seconds are dropped)."""
    return moment.toordinal() * MINUTES_PER_DAY + moment.hour * 60 + moment.minute


def to_datetime(minutes: int) -> datetime:
    day, minute = divmod(minutes, MINUTES_PER_DAY)
    return datetime.fromordinal(day).replace(hour=minute // 60, minute=minute % 60)


def format_date(moment: datetime) -> str:
    """``YYYY-MM-DD HH:MM``, as P6 writes dates."""
    return moment.strftime("%Y-%m-%d %H:%M")


#: The local date layouts a person may type: with or without a time, ``T`` or a space.
DATE_LAYOUTS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def read_date(text: str) -> datetime | None:
    """A naive local date in one of ``DATE_LAYOUTS``, or None if it is in none (each
    caller raises its own error, naming its own field or line)."""
    for layout in DATE_LAYOUTS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def format_instant(minutes: int) -> str:
    return format_date(to_datetime(minutes))


class WorkTime:
    """Position arithmetic over one calendar, from cumulative work per day.

    The table covers a span of days around ``origin_day`` and grows (by doubling) when a
    question falls outside it; positions stay the same when it grows, because they are
    counted from the origin, not from the table's first day. Every answer is one bisect
    and a walk over a day's few periods.
    """

    __slots__ = ("_before", "_calendar", "_first_day", "_periods", "_zero", "calendar",
                 "origin_day")

    def __init__(self, calendar: WorkCalendar, origin_day: int, span_days: int = 800) -> None:
        self.calendar = calendar
        self.origin_day = origin_day
        self._build(origin_day - span_days, origin_day + 2 * span_days)

    def _build(self, first_day: int, end_day: int) -> None:
        periods: list[tuple[Period, ...]] = []
        before = [0]
        total = 0
        for ordinal in range(first_day, end_day):
            day_periods = self.calendar.periods_on(date.fromordinal(ordinal))
            periods.append(day_periods)
            total += sum(end - start for start, end in day_periods)
            before.append(total)
        self._first_day = first_day
        self._periods = periods
        self._before = before  # work before each day of the table, and after its last
        self._zero = before[self.origin_day - first_day]

    def _grow(self, backward: bool) -> None:
        first = self._first_day
        end = first + len(self._periods)
        span = end - first
        if span > 400 * 366:
            raise InvalidInput(f"calendar {self.calendar.id}: a date more than 400 years from "
                               "the data date", "date_out_of_range")
        if backward:
            self._build(first - span, end)
        else:
            self._build(first, end + span)

    def position(self, minutes: int) -> int:
        """Work (minutes) done on this calendar between the origin's midnight and ``minutes``."""
        day, minute = divmod(minutes, MINUTES_PER_DAY)
        index = day - self._first_day
        while not 0 <= index < len(self._periods):
            self._grow(backward=index < 0)
            index = day - self._first_day
        worked = self._before[index] - self._zero
        for start, end in self._periods[index]:
            if minute >= end:
                worked += end - start
            elif minute > start:
                worked += minute - start
        return worked

    def finish_at(self, position: int) -> int:
        """The first instant at which ``position`` minutes of work are done."""
        target = position + self._zero
        while target <= self._before[0] or target > self._before[-1]:
            self._grow(backward=target <= self._before[0])
            target = position + self._zero
        index = bisect_left(self._before, target) - 1  # the day in which it is reached
        left = target - self._before[index]
        for start, end in self._periods[index]:
            if left <= end - start:
                return (self._first_day + index) * MINUTES_PER_DAY + start + left
            left -= end - start
        raise AssertionError("a day's work did not add up")  # pragma: no cover

    def start_at(self, position: int) -> int:
        """The last instant at which exactly ``position`` minutes of work are done: where
        the next minute of work begins."""
        target = position + self._zero
        while target < self._before[0] or target >= self._before[-1]:
            self._grow(backward=target < self._before[0])
            target = position + self._zero
        index = bisect_right(self._before, target) - 1  # work resumes on this day
        left = target - self._before[index]
        for start, end in self._periods[index]:
            if left < end - start:
                return (self._first_day + index) * MINUTES_PER_DAY + start + left
            left -= end - start
        raise AssertionError("a day's work did not add up")  # pragma: no cover
