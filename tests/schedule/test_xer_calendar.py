"""P6 calendar data: weekdays from Sunday = 1, periods, holidays and changed days."""

from __future__ import annotations

from datetime import date

import pytest

from twinsync.errors import ScheduleImportError
from twinsync.schedule.xer_calendar import parse_clndr_data

# as P6 writes it across lines, with 0x7F padding; Saturday works a morning, 4 March
# 2026 (serial 46085) is a holiday and 6 March (46087) a half day
BROKEN_OVER_LINES = """(0||CalendarData()(
  (0||DaysOfWeek()(
    (0||1()())
    (0||2()((0||0(s|07:00|f|11:00)())(0||1(s|12:00|f|16:00)())))
    (0||3()((0||0(f|16:00|s|08:00)())))
    (0||4()((0||0(s|08:00|f|16:00)())))
    (0||5()((0||0(s|08:00|f|16:00)())))
    (0||6()((0||0(s|08:00|f|16:00)())))
    (0||7()((0||0(s|08:00|f|12:00)())))))\x7f\x7f
  (0||Exceptions()(
    (0||0(d|46085)())
    (0||1(d|46087)((0||0(s|08:00|f|12:00)())))))
  (0||VIEW(ShowTotal|Y)())))"""


def test_weekdays_periods_and_exceptions_are_read() -> None:
    calendar = parse_clndr_data("7", "Site", BROKEN_OVER_LINES)
    assert calendar.week[0] == ((420, 660), (720, 960))  # Monday, two periods
    assert calendar.week[1] == ((480, 960),)  # finish written before start
    assert calendar.week[5] == ((480, 720),)  # Saturday morning
    assert calendar.week[6] == ()  # Sunday, P6's day 1
    assert calendar.exceptions == {date(2026, 3, 4): (), date(2026, 3, 6): ((480, 720),)}


def test_a_finish_at_midnight_ends_the_day() -> None:
    text = "(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|00:00|f|00:00)())))" \
           "(0||3()((0||0(s|22:00|f|24:00)())))))))"
    calendar = parse_clndr_data("24", "Round the clock", text)
    assert calendar.week[0] == ((0, 1440),) and calendar.week[1] == ((1320, 1440),)


def test_an_empty_field_gives_a_working_week_of_the_calendars_hours() -> None:
    calendar = parse_clndr_data("1", "Plain", "", hours_per_day=10)
    assert calendar.week[:5] == (((480, 1080),),) * 5 and calendar.week[5:] == ((), ())


@pytest.mark.parametrize("text", [
    "(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|8h|f|16:00)())))))))",
    "(0||CalendarData()((0||Exceptions()((0||0(d|soon)())))))",
    "(0||CalendarData()((0||DaysOfWeek()(",
])
def test_calendar_data_that_cannot_be_read_is_an_error(text: str) -> None:
    with pytest.raises(ScheduleImportError):
        parse_clndr_data("9", "Odd", text)
