"""Planned versus actual and earned value, against figures worked out by hand."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from twinsync.schedule import WorkCalendar, standard_week
from twinsync.schedule.earned import (
    EarnedValue,
    Standing,
    WorkClock,
    planned_percent,
    variance,
)

#: Monday to Friday 08:00-16:00, Friday 6 March 2026 a holiday.
SITE = WorkCalendar("site", "Site", standard_week(8 * 60, 16 * 60),
                    {date(2026, 3, 6): ()})
CLOCK = WorkClock({"site": SITE}, datetime(2026, 3, 2))
MONDAY = datetime(2026, 3, 2, 8)
#: 40 hours from Monday 08:00: four days this week (Friday off) and Monday next.
FINISH = datetime(2026, 3, 9, 16)


def test_planned_progress_is_linear_in_work_time_and_skips_holidays_and_nights() -> None:
    assert planned_percent(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 1)) == 0.0
    assert planned_percent(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 3, 12)) == 30.0
    # Thursday 16:00 to Monday 08:00 is the holiday, the weekend and three nights: no work.
    assert planned_percent(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 5, 16)) == 80.0
    assert planned_percent(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 8, 12)) == 80.0
    assert planned_percent(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 20)) == 100.0


def test_a_milestone_is_planned_all_at_once() -> None:
    moment = datetime(2026, 3, 4, 12)
    assert planned_percent(CLOCK, "site", moment, moment, datetime(2026, 3, 4, 11)) == 0.0
    assert planned_percent(CLOCK, "site", moment, moment, moment) == 100.0


def test_an_activity_short_of_its_plan_is_behind_by_the_work_since_the_plan_reached_it(
) -> None:
    # Wednesday 12:00: 20 h of 40 planned (50 %); 10 % done was planned for Monday 12:00,
    # 16 working hours ago: two days behind.
    found = variance(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 4, 12), 10.0)
    assert (found.standing, found.days, found.planned_percent) == (Standing.BEHIND, 2.0, 50.0)


def test_an_activity_past_its_plan_is_ahead_and_one_close_to_it_on_track() -> None:
    ahead = variance(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 3, 8), 50.0)
    assert (ahead.standing, ahead.days) == (Standing.AHEAD, 1.5)  # 20 h planned at 20 % + 8
    close = variance(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 3, 8), 25.0)
    assert (close.standing, close.days) == (Standing.ON_TRACK, 0.0)  # 2 h ahead: 0.25 day


def test_an_activity_not_started_before_its_planned_start_is_on_track() -> None:
    found = variance(CLOCK, "site", datetime(2026, 3, 9, 8), datetime(2026, 3, 13, 16),
                     datetime(2026, 3, 3, 8), 0.0)
    assert found.standing is Standing.ON_TRACK


def test_a_completed_activity_is_judged_by_its_actual_finish() -> None:
    late = variance(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 20), 100.0,
                    actual_finish=datetime(2026, 3, 11, 16))
    assert (late.standing, late.days) == (Standing.BEHIND, 2.0)
    early = variance(CLOCK, "site", MONDAY, FINISH, datetime(2026, 3, 20), 100.0,
                     actual_finish=datetime(2026, 3, 5, 12))
    assert (early.standing, early.days) == (Standing.AHEAD, 1.5)  # Thu 12:00 → Mon 16:00


def test_earned_value_figures_match_the_hand_computed_example() -> None:
    # BAC 1000, 50 % planned, 25 % done, 400 spent.
    value = EarnedValue.of(1000.0, 50.0, 25.0, 400.0)
    assert value.to_dict() == {"bac": 1000.0, "pv": 500.0, "ev": 250.0, "ac": 400.0,
                               "sv": -250.0, "cv": -150.0, "spi": 0.5, "cpi": 0.625,
                               "eac": 1600.0, "etc": 1200.0, "vac": -600.0, "tcpi": 1.25}


def test_a_rollup_adds_the_amounts_and_takes_ratios_of_the_sums() -> None:
    total = EarnedValue.total([EarnedValue.of(1000.0, 50.0, 25.0, 400.0),
                               EarnedValue.of(2000.0, 10.0, 20.0, 300.0)])
    # PV 500 + 200, EV 250 + 400, AC 400 + 300.
    assert (total.planned_value, total.earned_value, total.actual_cost) == (700.0, 650.0,
                                                                           700.0)
    assert total.spi == pytest.approx(650 / 700) and total.cpi == pytest.approx(650 / 700)
    assert total.estimate_at_completion == pytest.approx(3000 / (650 / 700))
    assert total.to_complete_performance_index == pytest.approx(2350 / 2300)


def test_ratios_without_a_divisor_are_none_and_the_estimate_falls_back_to_budget() -> None:
    value = EarnedValue.of(4000.0, 0.0, 0.0, 0.0)
    assert value.spi is None and value.cpi is None
    assert value.estimate_at_completion == 4000.0 and value.variance_at_completion == 0.0
    spent = EarnedValue.of(500.0, 100.0, 100.0, 500.0)
    assert spent.to_complete_performance_index is None  # nothing left, nothing to spend


def test_without_a_known_actual_cost_the_figures_that_need_it_are_none() -> None:
    value = EarnedValue.of(40.0, 50.0, 25.0, None)  # hours, nobody reported hours worked
    assert value.to_dict() == {"bac": 40.0, "pv": 20.0, "ev": 10.0, "ac": None,
                               "sv": -10.0, "cv": None, "spi": 0.5, "cpi": None,
                               "eac": None, "etc": None, "vac": None, "tcpi": None}
    total = EarnedValue.total([value, EarnedValue.of(80.0, 10.0, 10.0, 12.0)])
    assert total.actual_cost == 12.0 and total.cpi == pytest.approx(18.0 / 12.0)
    assert EarnedValue.total([value, value]).actual_cost is None
