"""The critical path method on textbook networks whose answers are worked out by hand.

Every network runs on a Monday-to-Friday 08:00-16:00 calendar from Monday 2 March 2026,
08:00, so a day is 8 hours and positions are easy to count: Monday is hours 0-8,
Tuesday 8-16, and so on.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from twinsync.errors import InvalidInput
from twinsync.schedule import (
    ActivityType,
    Constraint,
    ConstraintType,
    LagCalendar,
    ProgressMode,
    ScheduledActivity,
    SchedulingOptions,
    WbsNode,
    schedule_cpm,
)

from .networks import at, link, network, task


def dates(activity: ScheduledActivity) -> tuple[str, str, str, str]:
    return tuple(moment.strftime("%d %H:%M") for moment in (  # type: ignore[return-value]
        activity.early_start, activity.early_finish, activity.late_start,
        activity.late_finish))


def test_a_finish_to_start_network_has_its_textbook_dates_floats_and_critical_path() -> None:
    # A(16h) -> B(24h) -> D(8h), A -> C(8h) -> D: C has two days of float
    result = schedule_cpm(network(
        [task("A", 16), task("B", 24), task("C", 8), task("D", 8)],
        [link("A", "B"), link("A", "C"), link("B", "D"), link("C", "D")])).by_code()
    assert dates(result["A"]) == ("02 08:00", "03 16:00", "02 08:00", "03 16:00")
    assert dates(result["B"]) == ("04 08:00", "06 16:00", "04 08:00", "06 16:00")
    assert dates(result["C"]) == ("04 08:00", "04 16:00", "06 08:00", "06 16:00")
    assert dates(result["D"]) == ("09 08:00", "09 16:00", "09 08:00", "09 16:00")
    assert result["C"].total_float_hours == 16 and result["C"].free_float_hours == 16
    assert [c for c, a in result.items() if a.critical] == ["A", "B", "D"]
    assert [c for c, a in result.items() if a.longest_path] == ["A", "B", "D"]


def test_start_to_start_finish_to_finish_and_start_to_finish_links_with_lags() -> None:
    result = schedule_cpm(network(
        [task("A", 16), task("B", 24), task("C", 8), task("D", 8), task("E", 8)],
        [link("A", "B", "SS", 8),    # B starts a day after A starts
         link("B", "C", "FF", 8),    # C finishes a day after B finishes
         link("A", "D", "SF"),       # D may not finish before A starts: no push
         link("C", "E", "FS", -8)]))  # E may start a day before C finishes
    found = result.by_code()
    assert dates(found["B"]) == ("03 08:00", "05 16:00", "03 08:00", "05 16:00")
    assert dates(found["C"]) == ("06 08:00", "06 16:00", "06 08:00", "06 16:00")
    assert dates(found["D"]) == ("02 08:00", "02 16:00", "06 08:00", "06 16:00")
    assert dates(found["E"]) == ("06 08:00", "06 16:00", "06 08:00", "06 16:00")
    assert found["D"].total_float_hours == 32 and found["D"].free_float_hours == 32
    assert result.project_finish == at(6, 16)
    assert {c for c, a in found.items() if a.critical} == {"A", "B", "C", "E"}
    assert {c for c, a in found.items() if a.longest_path} == {"A", "B", "C", "E"}


def test_a_holiday_on_an_activitys_calendar_moves_it_and_float_counts_its_own_calendar() -> None:
    # A and B work on the calendar with Wednesday off; C on the standard one
    found = schedule_cpm(network(
        [task("A", 16, "hol"), task("B", 16, "hol"), task("C", 8)],
        [link("A", "B"), link("A", "C")])).by_code()
    assert dates(found["B"]) == ("05 08:00", "06 16:00", "05 08:00", "06 16:00")
    assert dates(found["C"]) == ("04 08:00", "04 16:00", "06 08:00", "06 16:00")
    assert found["C"].total_float_hours == 16
    assert found["A"].total_float_hours == 0


def test_lags_count_on_the_calendar_the_options_name() -> None:
    activities = [task("A", 8), task("B", 8)]
    links = [link("A", "B", "FS", 24)]
    on_predecessor = schedule_cpm(network(activities, links)).by_code()
    on_clock = schedule_cpm(network(activities, links, options=SchedulingOptions(
        lag_calendar=LagCalendar.TWENTY_FOUR_HOUR))).by_code()
    # three working days after Monday 16:00 end on Thursday, 24 clock hours on Tuesday
    assert on_predecessor["B"].early_start == at(6, 8)
    assert on_clock["B"].early_start == at(4, 8)


def test_lags_on_the_successors_calendar_or_the_projects_default() -> None:
    # B works round the clock, so it starts the moment the lag ends
    activities = [task("A", 8), task("B", 8, "24h")]
    links = [link("A", "B", "FS", 24)]
    on_successor = schedule_cpm(network(activities, links, options=SchedulingOptions(
        lag_calendar=LagCalendar.SUCCESSOR))).by_code()
    on_default = schedule_cpm(network(activities, links, options=SchedulingOptions(
        lag_calendar=LagCalendar.PROJECT_DEFAULT))).by_code()
    assert on_successor["B"].early_start == at(3, 16)
    assert on_default["B"].early_start == at(5, 16)
    assert on_default["B"].early_finish == at(6, 0)


def test_milestones_take_the_finish_or_the_start_face_of_their_date() -> None:
    found = schedule_cpm(network(
        [task("A", 16), task("Done", 0, type=ActivityType.FINISH_MILESTONE),
         task("Go", 0, type=ActivityType.START_MILESTONE)],
        [link("A", "Done"), link("A", "Go")])).by_code()
    assert found["Done"].early_start == found["Done"].early_finish == at(3, 16)
    assert found["Go"].early_start == found["Go"].early_finish == at(4, 8)


def test_start_on_or_after_delays_and_finish_on_or_before_makes_negative_float() -> None:
    found = schedule_cpm(network(
        [task("A", 8),
         task("B", 8, constraints=(Constraint(ConstraintType.START_ON_OR_AFTER, at(5)),)),
         task("C", 8, constraints=(Constraint(ConstraintType.FINISH_ON_OR_BEFORE,
                                              at(2, 16)),))],
        [link("A", "B"), link("A", "C")])).by_code()
    assert dates(found["B"]) == ("05 08:00", "05 16:00", "05 08:00", "05 16:00")
    assert found["C"].early_finish == at(3, 16) and found["C"].late_finish == at(2, 16)
    assert found["C"].total_float_hours == -8 and found["C"].critical
    assert found["A"].total_float_hours == -8  # its successor's constraint reaches back
    assert found["A"].late_finish == datetime(2026, 2, 27, 16, 0)


def test_a_mandatory_start_holds_against_its_logic() -> None:
    found = schedule_cpm(network(
        [task("A", 24), task("B", 8, constraints=(
            Constraint(ConstraintType.MANDATORY_START, at(3)),))],
        [link("A", "B")])).by_code()
    assert dates(found["B"]) == ("03 08:00", "03 16:00", "03 08:00", "03 16:00")
    # A cannot finish by Monday evening, as B's date asks: two days behind
    assert found["A"].late_finish == at(2, 16) and found["A"].total_float_hours == -16


def test_as_late_as_possible_uses_up_the_free_float_and_drives_nothing() -> None:
    late = (Constraint(ConstraintType.AS_LATE_AS_POSSIBLE),)
    found = schedule_cpm(network(
        [task("A", 8), task("B", 24), task("C", 8, constraints=late), task("D", 8),
         task("E", 8, constraints=late)],
        [link("A", "B"), link("A", "C"), link("B", "D"), link("C", "D"), link("A", "E")]
    )).by_code()
    assert dates(found["C"]) == ("05 08:00", "05 16:00", "05 08:00", "05 16:00")
    # E, an open end, goes to the project's last day but does not become its longest path
    assert dates(found["E"]) == ("06 08:00", "06 16:00", "06 08:00", "06 16:00")
    assert {c for c, a in found.items() if a.longest_path} == {"A", "B", "D"}


PROGRESSED = [
    task("A", 16, actual_start=at(2), actual_finish=at(3, 16)),
    task("X", 32, actual_start=at(2), remaining_duration_hours=16),
    task("Y", 16, actual_start=at(3), remaining_duration_hours=8),  # out of sequence
    task("Z", 8),
]
PROGRESS_LINKS = [link("A", "X"), link("X", "Y"), link("Y", "Z")]


def test_progressed_activities_under_retained_logic_wait_for_their_predecessors() -> None:
    result = schedule_cpm(network(PROGRESSED, PROGRESS_LINKS, data_date=at(4)))
    found = result.by_code()
    assert (found["A"].early_start, found["A"].early_finish) == (at(2), at(3, 16))
    assert found["A"].total_float_hours is None and not found["A"].critical
    assert (found["X"].early_start, found["X"].early_finish) == (at(2), at(5, 16))
    assert found["X"].remaining_start == at(4) and found["A"].remaining_start is None
    assert (found["Y"].early_start, found["Y"].early_finish) == (at(3), at(6, 16))
    assert (found["Z"].early_start, found["Z"].early_finish) == (at(9), at(9, 16))
    assert {c for c, a in found.items() if a.critical} == {"X", "Y", "Z"}
    assert {c for c, a in found.items() if a.longest_path} == {"X", "Y", "Z"}


def test_progress_override_lets_started_work_go_on_from_the_data_date() -> None:
    result = schedule_cpm(network(PROGRESSED, PROGRESS_LINKS, data_date=at(4),
                                  options=SchedulingOptions(
                                      progress=ProgressMode.PROGRESS_OVERRIDE)))
    found = result.by_code()
    assert found["Y"].early_finish == at(4, 16)
    assert (found["Z"].early_start, found["Z"].early_finish) == (at(5), at(5, 16))
    assert result.project_finish == at(5, 16)


def test_no_remaining_work_is_scheduled_before_the_data_date() -> None:
    found = schedule_cpm(network([task("A", 8)], [], data_date=at(4, 12))).by_code()
    assert (found["A"].early_start, found["A"].early_finish) == (at(4, 12), at(5, 12))


def test_a_level_of_effort_spans_from_its_predecessor_to_its_successor() -> None:
    found = schedule_cpm(network(
        [task("A", 16), task("B", 16), task("Site", 0, type=ActivityType.LEVEL_OF_EFFORT)],
        [link("A", "B"), link("A", "Site", "SS"), link("Site", "B", "FF")])).by_code()
    assert dates(found["Site"]) == ("02 08:00", "05 16:00", "02 08:00", "05 16:00")
    assert found["Site"].total_float_hours == 0
    assert dates(found["B"]) == ("04 08:00", "05 16:00", "04 08:00", "05 16:00")


def test_a_wbs_summary_spans_the_activities_of_its_branch() -> None:
    wbs = {"W": WbsNode("W", "W", "works"), "W.1": WbsNode("W.1", "1", "frame", "W"),
           "X": WbsNode("X", "X", "elsewhere")}
    found = schedule_cpm(network(
        [task("A", 16, wbs_id="W"), task("B", 16, wbs_id="W.1"), task("C", 40, wbs_id="X"),
         task("Sum", 0, type=ActivityType.WBS_SUMMARY, wbs_id="W")],
        [link("A", "B")], wbs=wbs)).by_code()
    assert dates(found["Sum"]) == ("02 08:00", "05 16:00", "03 08:00", "06 16:00")
    assert found["Sum"].total_float_hours == 8


def test_a_loop_is_refused_with_the_activities_on_it() -> None:
    with pytest.raises(InvalidInput, match=r"loop: .*B -> C"):
        schedule_cpm(network([task("A", 8), task("B", 8), task("C", 8)],
                             [link("A", "B"), link("B", "C"), link("C", "B")]))


def test_a_must_finish_by_date_sets_the_late_dates_of_open_ends() -> None:
    found = schedule_cpm(network([task("A", 8)], [], must_finish_by=at(4, 16))).by_code()
    assert found["A"].late_finish == at(4, 16) and found["A"].total_float_hours == 16


S, SA, SB = (ConstraintType.START_ON, ConstraintType.START_ON_OR_AFTER,
             ConstraintType.START_ON_OR_BEFORE)
F, FA, FB = (ConstraintType.FINISH_ON, ConstraintType.FINISH_ON_OR_AFTER,
             ConstraintType.FINISH_ON_OR_BEFORE)


@pytest.mark.parametrize(("kind", "when", "b_start", "b_late_start", "b_float", "a_float"), [
    (S, at(5), at(5), at(5), 0, 8),           # delays the early start, holds the late one
    (S, at(3), at(4), at(3), -8, -8),         # too early for the logic: negative float
    (SA, at(3), at(4), at(4), 0, 0),          # already later: nothing changes
    (SA, at(5), at(5), at(5), 0, 8),
    (SB, at(3), at(4), at(3), -8, -8),        # late dates only
    (SB, at(5), at(4), at(4), 0, 0),
    (F, at(5, 16), at(5), at(5), 0, 8),
    (FA, at(5, 16), at(5), at(5), 0, 8),
    (FB, at(3, 16), at(4), at(3), -8, -8),
    (FB, at(6, 16), at(4), at(4), 0, 0),
    (ConstraintType.MANDATORY_START, at(3), at(3), at(3), 0, -8),  # against the logic
    (ConstraintType.MANDATORY_FINISH, at(5, 16), at(5), at(5), 0, 8),
    (ConstraintType.AS_LATE_AS_POSSIBLE, None, at(4), at(4), 0, 0),  # no float to use
])
def test_each_constraint_moves_the_dates_it_should(
        kind: ConstraintType, when: datetime | None, b_start: datetime,
        b_late_start: datetime, b_float: float, a_float: float) -> None:
    # A (16h) -> B (8h) -> C (8h): unconstrained, B is Wednesday and all is critical
    found = schedule_cpm(network(
        [task("A", 16), task("B", 8, constraints=(Constraint(kind, when),)), task("C", 8)],
        [link("A", "B"), link("B", "C")])).by_code()
    assert (found["B"].early_start, found["B"].late_start) == (b_start, b_late_start)
    assert found["B"].total_float_hours == b_float
    assert found["A"].total_float_hours == a_float
