"""Two rules of P6's scheduler that real P6 exports showed (docs/SCHEDULE.md, "Agreement
with P6 on real exports"), each on a network worked by hand: work not started waits for
the project's planned start, and an activity whose finish hangs on nothing finishes by the
project's finish even when start-to-start successors would leave it later."""

from __future__ import annotations

from twinsync.schedule import schedule_cpm

from .networks import at, link, network, task


def test_work_not_started_waits_for_the_projects_planned_start_after_the_data_date() -> None:
    # data date Monday 2 March 08:00, project planned start Wednesday 4 March: P6 puts the
    # first activities on the Wednesday (the Hilal and expressway exports did so)
    started = task("S", 16, actual_start=at(2, 8), remaining_duration_hours=8)
    schedule = network(
        [task("A", 8), task("B", 8), started], [link("A", "B")], planned_start=at(4, 0)
    )
    found = schedule_cpm(schedule).by_code()
    assert (found["A"].early_start, found["A"].early_finish) == (at(4, 8), at(4, 16))
    assert found["B"].early_start == at(5, 8)
    # a started activity goes on from the data date: the planned start is behind it
    assert found["S"].remaining_start == at(2, 8)
    # a planned start before the data date changes nothing
    earlier = schedule_cpm(network([task("A", 8)], [], planned_start=at(1, 0))).by_code()
    assert earlier["A"].early_start == at(2, 8)


def test_an_activity_with_only_start_to_start_successors_finishes_by_the_project_finish() -> None:
    # A (24 h) runs Monday to Wednesday; B (8 h) starts with it (SS) and ends on Monday.
    # The project finishes with A, Wednesday 16:00. B's start bounds A's start only
    # (Wednesday 08:00 late), which alone would let A finish on Friday with 16 h of float;
    # P6 gives an activity whose finish drives nothing the project's finish as its late
    # finish (the Hilal export: A12270, SS successors only, late finish = project finish)
    found = schedule_cpm(network([task("A", 24), task("B", 8)], [link("A", "B", "SS")])).by_code()
    assert (found["A"].late_start, found["A"].late_finish) == (at(2, 8), at(4, 16))
    assert found["A"].total_float_hours == 0 and found["A"].critical
    assert (found["B"].late_start, found["B"].late_finish) == (at(4, 8), at(4, 16))
    assert found["B"].total_float_hours == 16
