"""The activity network as flat lists: links by index, and a topological order.

Links between two ordinary activities (tasks and milestones) drive the schedule; links
that touch a level-of-effort or WBS-summary activity only shape that activity, so they are
kept apart (``spanning_in``/``spanning_out``). A loop among driving links has no schedule;
it is reported with the activities on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidInput
from .model import ActivityType, RelationType, Schedule

SPANNING = (ActivityType.LEVEL_OF_EFFORT, ActivityType.WBS_SUMMARY)


@dataclass(frozen=True, slots=True)
class Network:
    pred: list[int]
    succ: list[int]
    kind: list[RelationType]
    lag: list[int]  # minutes
    incoming: list[list[int]]  # driving links into each activity
    outgoing: list[list[int]]
    spanning_in: list[list[int]]  # links into or out of spanning activities
    spanning_out: list[list[int]]
    order: list[int]  # ordinary activities, every predecessor before its successors
    driving_indices: list[int]
    driving_set: frozenset[int]


def build_network(schedule: Schedule) -> Network:
    activities = schedule.activities
    index_of: dict[str, int] = {}
    for index, activity in enumerate(activities):
        if activity.id in index_of:
            raise InvalidInput(f"two activities have the id {activity.id!r}", "duplicate_id")
        index_of[activity.id] = index
    count = len(activities)
    pred: list[int] = []
    succ: list[int] = []
    kind: list[RelationType] = []
    lag: list[int] = []
    incoming: list[list[int]] = [[] for _ in range(count)]
    outgoing: list[list[int]] = [[] for _ in range(count)]
    spanning_in: list[list[int]] = [[] for _ in range(count)]
    spanning_out: list[list[int]] = [[] for _ in range(count)]
    spanning = [a.type in SPANNING for a in activities]
    for relationship in schedule.relationships:
        p = index_of.get(relationship.predecessor_id)
        s = index_of.get(relationship.successor_id)
        if p is None or s is None:
            missing = relationship.predecessor_id if p is None else relationship.successor_id
            raise InvalidInput(f"a relationship names activity {missing!r}, which is not in "
                               "the schedule", "unknown_activity")
        if p == s:
            raise InvalidInput(f"activity {activities[p].code} is its own predecessor",
                               "loop")
        link = len(pred)
        pred.append(p)
        succ.append(s)
        kind.append(relationship.type)
        lag.append(round(relationship.lag_hours * 60))
        if spanning[p] or spanning[s]:
            spanning_out[p].append(link)
            spanning_in[s].append(link)
        else:
            outgoing[p].append(link)
            incoming[s].append(link)
    driving_indices = [i for i in range(count) if not spanning[i]]
    order = _topological(driving_indices, incoming, outgoing, succ, pred, schedule)
    return Network(pred, succ, kind, lag, incoming, outgoing, spanning_in, spanning_out,
                   order, driving_indices, frozenset(driving_indices))


def _topological(nodes: list[int], incoming: list[list[int]], outgoing: list[list[int]],
                 succ: list[int], pred: list[int], schedule: Schedule) -> list[int]:
    waiting = {i: len(incoming[i]) for i in nodes}
    ready = [i for i in nodes if waiting[i] == 0]
    ready.reverse()  # pop from the end, in the schedule's order
    order: list[int] = []
    while ready:
        index = ready.pop()
        order.append(index)
        for link in outgoing[index]:
            successor = succ[link]
            waiting[successor] -= 1
            if waiting[successor] == 0:
                ready.append(successor)
    if len(order) < len(nodes):
        raise InvalidInput(_describe_loop(waiting, incoming, pred, schedule), "loop")
    return order


def _describe_loop(waiting: dict[int, int], incoming: list[list[int]], pred: list[int],
                   schedule: Schedule) -> str:
    # walk back along unresolved predecessors until an activity repeats: that is a loop
    stuck = {i for i, left in waiting.items() if left > 0}
    index = min(stuck)
    seen: list[int] = []
    while index not in seen:
        seen.append(index)
        index = next(pred[link] for link in incoming[index] if pred[link] in stuck)
    loop = seen[seen.index(index):][::-1]
    codes = " -> ".join(schedule.activities[i].code for i in [*loop, loop[0]])
    return f"the relationships form a loop: {codes}"
