"""Work time on a calendar: positions count work, and each position has a finish face and
a start face."""

from __future__ import annotations

from datetime import date

import pytest

from twinsync.errors import InvalidInput
from twinsync.schedule import WorkCalendar, WorkTime, format_instant, instant

from .networks import HOLIDAY, MONDAY, STANDARD, at

ORIGIN = MONDAY.toordinal()


def test_a_position_counts_the_work_since_the_data_dates_midnight() -> None:
    work = WorkTime(STANDARD, ORIGIN)
    assert work.position(instant(at(2, 8))) == 0
    assert work.position(instant(at(2, 12))) == 4 * 60
    assert work.position(instant(at(2, 20))) == 8 * 60
    assert work.position(instant(at(7, 12))) == 5 * 8 * 60  # Saturday adds nothing


def test_work_done_at_a_weekend_finishes_friday_and_resumes_monday() -> None:
    work = WorkTime(STANDARD, ORIGIN)
    assert format_instant(work.finish_at(40 * 60)) == "2026-03-06 16:00"
    assert format_instant(work.start_at(40 * 60)) == "2026-03-09 08:00"
    assert format_instant(work.finish_at(60)) == format_instant(work.start_at(60)) \
        == "2026-03-02 09:00"


def test_a_holiday_is_skipped() -> None:
    work = WorkTime(HOLIDAY, ORIGIN)
    assert format_instant(work.start_at(16 * 60)) == "2026-03-05 08:00"
    assert work.position(instant(at(4, 12))) == 16 * 60


def test_an_exception_with_its_own_hours_replaces_the_day() -> None:
    short_friday = WorkCalendar("f", "short Friday", STANDARD.week,
                                {date(2026, 3, 6): ((8 * 60, 12 * 60),)})
    work = WorkTime(short_friday, ORIGIN)
    assert format_instant(work.finish_at(36 * 60)) == "2026-03-06 12:00"
    assert format_instant(work.start_at(36 * 60)) == "2026-03-09 08:00"


def test_positions_hold_far_before_and_after_the_data_date() -> None:
    work = WorkTime(STANDARD, ORIGIN, span_days=10)
    years_later = work.finish_at(8 * 60 * 5 * 52 * 3)
    assert work.position(years_later) == 8 * 60 * 5 * 52 * 3
    before = work.start_at(-8 * 60 * 5 * 52)
    assert format_instant(before).endswith("08:00")
    assert work.position(before) == -8 * 60 * 5 * 52
    assert work.position(instant(at(2, 8))) == 0  # unchanged by the growth


def test_a_calendar_without_a_working_day_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no working day"):
        WorkCalendar("x", "never", ((),) * 7)
