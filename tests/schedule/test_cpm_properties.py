"""Properties of the critical path method that hold on any network without constraints:
random DAGs on three calendars, with every relationship type and lags of both signs."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from twinsync.schedule import (
    Activity,
    Constraint,
    ConstraintType,
    LagCalendar,
    Relationship,
    RelationType,
    Schedule,
    ScheduledActivity,
    SchedulingOptions,
    WorkTime,
    instant,
    schedule_cpm,
)

from .networks import MONDAY, link, network, task

ORIGIN = MONDAY.toordinal()
LAGS = (-8.0, -4.0, 0.0, 0.0, 0.0, 4.0, 8.0, 16.0)


@st.composite
def networks(draw: st.DrawFn, calendars: tuple[str, ...] = ("std", "hol", "24h"),
             lags: tuple[float, ...] = LAGS,
             kinds: tuple[str, ...] = ("FS", "FS", "SS", "FF", "SF")) -> Schedule:
    count = draw(st.integers(2, 18))
    activities = [task(f"T{n}", draw(st.sampled_from((0, 2.5, 8, 16, 24, 40))),
                       draw(st.sampled_from(calendars))) for n in range(count)]
    links = []
    for successor in range(1, count):
        for predecessor in draw(st.sets(st.integers(0, successor - 1), max_size=3)):
            links.append(link(f"T{predecessor}", f"T{successor}",
                              draw(st.sampled_from(kinds)),
                              draw(st.sampled_from(lags))))
    lag_calendar = draw(st.sampled_from(list(LagCalendar))) if len(calendars) > 1 else (
        LagCalendar.PREDECESSOR)
    return network(activities, links, options=SchedulingOptions(lag_calendar=lag_calendar))


def _works(schedule: Schedule) -> dict[str, WorkTime]:
    return {cid: WorkTime(calendar, ORIGIN) for cid, calendar in schedule.calendars.items()}


def _lag_calendar(schedule: Schedule, predecessor: Activity, successor: Activity) -> str:
    return {LagCalendar.PREDECESSOR: predecessor.calendar_id,
            LagCalendar.SUCCESSOR: successor.calendar_id,
            LagCalendar.TWENTY_FOUR_HOUR: "24h",
            LagCalendar.PROJECT_DEFAULT: schedule.default_calendar_id}[
        schedule.options.lag_calendar]


@settings(max_examples=60, deadline=None)
@given(networks())
def test_the_forward_pass_respects_every_relationship_and_the_data_date(
        schedule: Schedule) -> None:
    found = {a.id: a for a in schedule_cpm(schedule).activities}
    for activity in found.values():
        assert activity.early_start >= MONDAY
    for relationship in schedule.relationships:
        _assert_held(schedule, found, relationship)


def _assert_held(schedule: Schedule, found: dict[str, ScheduledActivity],
                 relationship: Relationship) -> None:
    """The successor's early dates keep the relationship, its lag counted on the calendar
    the options name."""
    activities = {a.id: a for a in schedule.activities}
    predecessor, successor = found[relationship.predecessor_id], found[
        relationship.successor_id]
    source = predecessor.early_start if relationship.type in (
        RelationType.SS, RelationType.SF) else predecessor.early_finish
    works = _works(schedule)
    lag_work = works[_lag_calendar(schedule, activities[relationship.predecessor_id],
                                   activities[relationship.successor_id])]
    bound = lag_work.finish_at(lag_work.position(instant(source))
                               + round(relationship.lag_hours * 60))
    own = works[activities[relationship.successor_id].calendar_id]
    held = successor.early_start if relationship.type in (
        RelationType.FS, RelationType.SS) else successor.early_finish
    assert own.position(instant(held)) >= own.position(bound), relationship


@settings(max_examples=60, deadline=None)
@given(networks())
def test_late_dates_never_come_before_early_dates_and_float_is_never_negative(
        schedule: Schedule) -> None:
    for activity in schedule_cpm(schedule).activities:
        assert activity.early_start <= activity.late_start
        assert activity.early_finish <= activity.late_finish
        assert activity.total_float_hours is not None and activity.total_float_hours >= 0
        assert activity.free_float_hours is not None
        assert 0 <= activity.free_float_hours <= activity.total_float_hours


def _chain_is_whole(schedule: Schedule) -> None:
    result = schedule_cpm(schedule)
    found = {a.id: a for a in result.activities}
    on_path = {i for i, a in found.items() if a.longest_path}
    ends = [i for i in on_path if found[i].early_finish == result.project_finish]
    assert ends, "the longest path reaches the project finish"
    predecessors: dict[str, set[str]] = {i: set() for i in found}
    for relationship in schedule.relationships:
        predecessors[relationship.successor_id].add(relationship.predecessor_id)
    for activity_id in on_path:
        if not predecessors[activity_id] & on_path:
            # where the chain begins, nothing but the data date holds the activity back
            assert found[activity_id].early_start == MONDAY, activity_id


@settings(max_examples=60, deadline=None)
@given(networks())
def test_the_longest_path_runs_from_the_data_date_to_the_project_finish(
        schedule: Schedule) -> None:
    _chain_is_whole(schedule)


@settings(max_examples=50, deadline=None)
@given(networks(calendars=("std",), lags=(0.0, 0.0, 4.0, 8.0), kinds=("FS",)))
def test_in_a_textbook_network_the_longest_path_is_critical(schedule: Schedule) -> None:
    # one calendar, finish-to-start links, no negative lag: otherwise an activity may end
    # the project and still have float (its only successor hangs on its start, or starts
    # before it ends), as in P6
    _chain_is_whole(schedule)
    for activity in schedule_cpm(schedule).activities:
        if activity.longest_path:
            assert activity.critical and activity.total_float_hours == 0


def test_relationship_types_cover_all_four() -> None:
    assert {r.value for r in RelationType} == {"FS", "SS", "FF", "SF"}
    assert Relationship("a", "b").type is RelationType.FS


@st.composite
def progressed_networks(draw: st.DrawFn) -> Schedule:
    """Random networks whose first activities are complete and some of the rest carry a
    start-on-or-after or finish-on-or-before constraint."""
    schedule = draw(networks())
    done = draw(st.integers(0, len(schedule.activities) // 2))
    activities = []
    for index, activity in enumerate(schedule.activities):
        if index < done:
            start = datetime(2026, 2, 2, 8) + timedelta(hours=index)
            activity = replace(activity, actual_start=start,
                               actual_finish=start + timedelta(days=10))
        elif draw(st.booleans()):
            kind = draw(st.sampled_from((ConstraintType.START_ON_OR_AFTER,
                                         ConstraintType.FINISH_ON_OR_BEFORE)))
            when = MONDAY + timedelta(hours=draw(st.integers(0, 24 * 20)))
            activity = replace(activity, constraints=(Constraint(kind, when),))
        activities.append(activity)
    return replace(schedule, activities=tuple(activities))


@settings(max_examples=60, deadline=None)
@given(progressed_networks())
def test_progress_and_constraints_keep_the_logic_of_the_remaining_work(
        schedule: Schedule) -> None:
    found = {a.id: a for a in schedule_cpm(schedule).activities}
    activities = {a.id: a for a in schedule.activities}
    works = _works(schedule)
    for activity_id, computed in found.items():
        activity = activities[activity_id]
        own = works[activity.calendar_id]
        if activity.actual_finish is not None:
            assert (computed.early_start, computed.early_finish) == (
                activity.actual_start, activity.actual_finish)
            assert computed.total_float_hours is None and not computed.critical
            continue
        assert computed.early_start >= MONDAY
        for constraint in activity.constraints:
            assert constraint.date is not None
            if constraint.kind is ConstraintType.START_ON_OR_AFTER:
                assert own.position(instant(computed.early_start)) >= own.position(
                    instant(constraint.date))
            else:
                assert own.position(instant(computed.late_finish)) <= own.position(
                    instant(constraint.date))
    for relationship in schedule.relationships:
        if activities[relationship.successor_id].actual_finish is None:
            # a completed successor is history: it need not have followed the logic
            _assert_held(schedule, found, relationship)
