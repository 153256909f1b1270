"""How far a computed schedule agrees with the one the file's own scheduler stored.

Two halves. ``strip_computed_fields`` blanks, in an XER file, every field P6 writes when it
schedules (early and late dates, floats, the remaining dates, the relationship's
``aref``/``arls``), so that what is read next holds only what a planner types: durations,
actuals, constraints, calendars, logic and options. ``compare_with_stored`` then sets the
dates computed from that against the ones the untouched file stored, field by field, and
describes each activity that differs by what it has (type, status, constraints, lags,
calendar) so the causes can be grouped.

Works on bytes and splits on tabs and line ends only: both are ASCII in UTF-8 and in
Windows-1252, so the file's text is left as it was, whatever its encoding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .cpm import ScheduleResult
from .model import Activity, Schedule, Status

#: What P6 writes when it schedules, per table: blanked before the file is scheduled again.
COMPUTED_FIELDS: dict[bytes, tuple[bytes, ...]] = {
    b"TASK": (
        b"early_start_date",
        b"early_end_date",
        b"late_start_date",
        b"late_end_date",
        b"total_float_hr_cnt",
        b"free_float_hr_cnt",
        b"restart_date",
        b"reend_date",
        b"rem_late_start_date",
        b"rem_late_end_date",
        b"float_path",
        b"float_path_order",
        b"driving_path_flag",
    ),
    b"TASKPRED": (b"aref", b"arls"),
    b"PROJECT": (b"scd_end_date",),
}

#: The fields compared, in the order the figures are given.
COMPARED = ("early_start", "early_finish", "late_start", "late_finish", "total_float")


def strip_computed_fields(data: bytes) -> bytes:
    """The XER file with every field of ``COMPUTED_FIELDS`` empty; the rest byte for byte."""
    lines = data.splitlines(keepends=True)
    table = b""
    blanked: set[int] = set()
    out: list[bytes] = []
    for line in lines:
        body = line.rstrip(b"\r\n")
        ending = line[len(body) :]
        marker, _, rest = body.partition(b"\t")
        if marker == b"%T":
            table = rest.strip()
            blanked = set()
        elif marker == b"%F":
            names = [name.strip() for name in rest.split(b"\t")]
            wanted = COMPUTED_FIELDS.get(table, ())
            blanked = {i for i, name in enumerate(names) if name in wanted}
        elif marker == b"%R" and blanked:
            values = rest.split(b"\t")
            body = b"\t".join(
                [b"%R", *(b"" if i in blanked else value for i, value in enumerate(values))]
            )
        out.append(body + ending)
    return b"".join(out)


@dataclass(frozen=True)
class Mismatch:
    """One activity whose computed dates differ from the stored ones by an hour or more."""

    code: str
    fields: tuple[str, ...]  # which of ``COMPARED`` differ
    traits: tuple[str, ...]  # what the activity has that could explain it
    computed: dict[str, str]
    stored: dict[str, str]


@dataclass(frozen=True)
class StoredAgreement:
    compared: int  # activities not complete with stored early dates
    matching: dict[str, int]  # per field of ``COMPARED``: activities within the hour
    all_fields: int  # activities within the hour on every field
    mismatches: tuple[Mismatch, ...] = ()
    traits: dict[str, int] = field(default_factory=dict)  # trait → mismatching activities

    def share(self, name: str) -> float:
        return self.matching[name] / self.compared if self.compared else 0.0

    def figures(self) -> dict[str, object]:
        return {
            "compared": self.compared,
            **{name: round(self.share(name), 4) for name in COMPARED},
            "all_fields": round(self.all_fields / self.compared, 4) if self.compared else 0.0,
            "mismatches": len(self.mismatches),
            "mismatch_traits": self.traits,
        }


def compare_with_stored(stored: Schedule, result: ScheduleResult) -> StoredAgreement:
    """``result`` (computed without the stored dates) against the dates ``stored`` (the
    untouched file, read) holds, over its activities that are not complete."""
    computed = {a.id: a for a in result.activities}
    matching = dict.fromkeys(COMPARED, 0)
    mismatches: list[Mismatch] = []
    compared = all_fields = 0
    predecessors = _lags_into(stored)
    for activity in stored.activities:
        mine = computed.get(activity.id)
        theirs = activity.reported
        if mine is None or activity.status is Status.COMPLETE or theirs.early_start is None:
            continue
        compared += 1
        # P6 stores, as the early start of a started activity, where its remaining work
        # starts (the same as its restart_date), not its actual start
        early_start = mine.early_start
        if activity.status is Status.IN_PROGRESS and mine.remaining_start is not None:
            early_start = mine.remaining_start
        pairs: dict[str, tuple[object, object]] = {
            "early_start": (early_start, theirs.early_start),
            "early_finish": (mine.early_finish, theirs.early_finish),
            "late_start": (mine.late_start, theirs.late_start),
            "late_finish": (mine.late_finish, theirs.late_finish),
            "total_float": (mine.total_float_hours, theirs.total_float_hours),
        }
        differing = tuple(name for name, (a, b) in pairs.items() if not _within_an_hour(a, b))
        for name in COMPARED:
            matching[name] += name not in differing
        if not differing:
            all_fields += 1
            continue
        mismatches.append(
            Mismatch(
                activity.code,
                differing,
                _traits(activity, stored, predecessors),
                {name: _text(pairs[name][0]) for name in differing},
                {name: _text(pairs[name][1]) for name in differing},
            )
        )
    traits = Counter(trait for mismatch in mismatches for trait in mismatch.traits)
    return StoredAgreement(
        compared, matching, all_fields, tuple(mismatches), dict(traits.most_common())
    )


def _within_an_hour(computed: object, stored: object) -> bool:
    if isinstance(computed, datetime) and isinstance(stored, datetime):
        return abs((computed - stored).total_seconds()) < 3600
    if isinstance(computed, float | int) and isinstance(stored, float | int):
        return abs(computed - stored) < 1
    return computed is None and stored is None


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _lags_into(schedule: Schedule) -> dict[str, list[str]]:
    into: dict[str, list[str]] = {}
    for link in schedule.relationships:
        kind = link.type.value + (" lag" if link.lag_hours else "")
        into.setdefault(link.successor_id, []).append(kind)
    return into


def _traits(activity: Activity, schedule: Schedule, into: dict[str, list[str]]) -> tuple[str, ...]:
    """What the activity has among the usual causes of a difference with P6."""
    traits = [f"type {activity.type.value}", f"status {activity.status.value}"]
    traits += [f"constraint {c.kind.value}" for c in activity.constraints]
    traits += sorted({f"link {kind}" for kind in into.get(activity.id, [])})
    if activity.calendar_id != schedule.default_calendar_id:
        traits.append(f"calendar {activity.calendar_id}")
    if not into.get(activity.id):
        traits.append("no predecessor")
    return tuple(traits)
