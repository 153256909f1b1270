"""Level-of-effort and WBS-summary activities: fitted over what they span, driving nothing.

A level of effort starts where its start-type predecessors (FS, SS) let it and finishes
where its successors start (FS) or finish (FF), or where its FF/SF predecessors say; its
late dates keep that span and end where its successors' late dates allow. A WBS summary
runs from the earliest start to the latest finish of the ordinary activities in its WBS
branch; one whose branch holds none is fitted between its links like a level of effort.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TYPE_CHECKING

from .calendar import instant
from .model import ActivityType, RelationType, Status

if TYPE_CHECKING:
    from .cpm import SchedulingRun

_START_LINKS = (RelationType.FS, RelationType.SS)
_FINISH_LINKS = (RelationType.FS, RelationType.FF)


def fit_spanning(run: SchedulingRun, totals: MutableSequence[int | None],
                 frees: MutableSequence[int | None]) -> None:
    activities = run.schedule.activities
    members = _wbs_members(run)
    for index, activity in enumerate(activities):
        if index in run.net.driving_set:
            continue
        if activity.status is Status.COMPLETE:
            assert activity.actual_start is not None and activity.actual_finish is not None
            run.fix_actual(index, instant(activity.actual_start),
                            instant(activity.actual_finish))
            continue
        branch = members.get(index, [])
        if activity.type is ActivityType.WBS_SUMMARY and branch:
            _fit_summary(run, index, branch)
        else:
            _fit_effort(run, index)
        total = run.late_finish_pos[index] - run.finish_pos[index]
        totals[index] = total
        frees[index] = total


def _wbs_members(run: SchedulingRun) -> dict[int, list[int]]:
    """For each WBS-summary activity, the ordinary activities of its WBS branch."""
    schedule = run.schedule
    summaries = [i for i, a in enumerate(schedule.activities)
                 if a.type is ActivityType.WBS_SUMMARY and a.wbs_id is not None]
    if not summaries:
        return {}
    by_node: dict[str, list[int]] = {}
    for index in run.net.driving_indices:
        wbs_id = schedule.activities[index].wbs_id
        if wbs_id is not None:
            by_node.setdefault(wbs_id, []).append(index)
    children: dict[str, list[str]] = {}
    for node in schedule.wbs.values():
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node.id)
    found: dict[int, list[int]] = {}
    for index in summaries:
        root = schedule.activities[index].wbs_id
        assert root is not None
        branch: list[int] = []
        stack, seen = [root], set()
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            branch.extend(by_node.get(node_id, ()))
            stack.extend(children.get(node_id, ()))
        found[index] = branch
    return found


def _fit_summary(run: SchedulingRun, index: int, branch: list[int]) -> None:
    work = run.work[index]
    run.early_start[index] = min(run.early_start[i] for i in branch)
    run.early_finish[index] = max(run.early_finish[i] for i in branch)
    run.late_start[index] = min(run.late_start[i] for i in branch)
    run.late_finish[index] = max(run.late_finish[i] for i in branch)
    run.start_pos[index] = work.position(run.early_start[index])
    run.finish_pos[index] = work.position(run.early_finish[index])
    run.late_start_pos[index] = work.position(run.late_start[index])
    run.late_finish_pos[index] = work.position(run.late_finish[index])
    run.duration[index] = run.finish_pos[index] - run.start_pos[index]


def _fit_effort(run: SchedulingRun, index: int) -> None:
    activities = run.schedule.activities
    work = run.work[index]
    driving = run.net.driving_set
    kinds = run.net.kind
    start = work.position(run.data_date)
    finishes: list[int] = []
    for link in run.net.spanning_in[index]:
        predecessor = run.net.pred[link]
        if predecessor not in driving:
            continue
        moment = run.shift((run.early_finish if kinds[link] in _FINISH_LINKS
                            else run.early_start)[predecessor], run.net.lag[link],
                           predecessor, index)
        if kinds[link] in _START_LINKS:
            start = max(start, work.position(moment))
        else:
            finishes.append(work.position(moment))
    late_finishes: list[int] = []
    for link in run.net.spanning_out[index]:
        if run.net.succ[link] not in driving or kinds[link] not in _FINISH_LINKS:
            continue
        finishes.append(run.finish_bound(link, early=True))
        late_finishes.append(run.finish_bound(link, early=False))
    activity = activities[index]
    own = max(0, round((activity.remaining_duration_hours
                        if activity.remaining_duration_hours is not None
                        else activity.planned_duration_hours) * 60))
    finish = max(finishes) if finishes else start + own
    finish = max(finish, start)
    run.start_pos[index] = start
    run.finish_pos[index] = finish
    run.duration[index] = finish - start
    if activity.status is Status.IN_PROGRESS:
        assert activity.actual_start is not None
        run.early_start[index] = instant(activity.actual_start)
    else:
        run.early_start[index] = work.start_at(start)
    run.early_finish[index] = run.finish_instant(index, finish)
    late_finish = max(late_finishes) if late_finishes else work.position(run.anchor)
    late_finish = max(late_finish, finish)
    run.late_finish_pos[index] = late_finish
    run.late_start_pos[index] = late_finish - run.duration[index]
    run.late_finish[index] = run.finish_instant(index, late_finish)
    run.late_start[index] = work.start_at(run.late_start_pos[index])
