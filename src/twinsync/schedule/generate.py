"""A synthetic P6 XER file of any size, for benchmarks and tests of scale.

The network is a random DAG (links only go from earlier to later activities) on three
calendars with holidays, with every relationship type, lags, milestones, constraints and
the first activities progressed, written as P6 writes XER: tab-separated, Windows-1252.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from .calendar import format_date

_DATA_DATE = datetime(2026, 3, 2, 8, 0)
_SERIAL_ZERO = date(1899, 12, 30)


def _clndr(week: dict[int, list[tuple[str, str]]], holidays: list[date]) -> str:
    days = "".join(
        f"(0||{day}()(" + "".join(f"(0||{n}(s|{s}|f|{f})())" for n, (s, f) in
                                  enumerate(week.get(day, []))) + "))"
        for day in range(1, 8))
    exceptions = "".join(f"(0||{n}(d|{(h - _SERIAL_ZERO).days})())"
                         for n, h in enumerate(holidays))
    return (f"(0||CalendarData()((0||DaysOfWeek()({days}))"
            f"(0||Exceptions()({exceptions}))))")


def _calendars() -> list[tuple[str, str, float, str]]:
    holidays = [date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 25),
                date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)]
    office = {d: [("08:00", "12:00"), ("13:00", "17:00")] for d in range(2, 7)}
    six_day = {d: [("07:00", "17:00")] for d in range(2, 8)}
    round_clock = {d: [("00:00", "00:00")] for d in range(1, 8)}
    return [("1", "Site 5x8", 8.0, _clndr(office, holidays)),
            ("2", "Crew 6x10", 10.0, _clndr(six_day, holidays[:3])),
            ("3", "Curing 7x24", 24.0, _clndr(round_clock, []))]


def _stamp(moment: datetime | None) -> str:
    return "" if moment is None else format_date(moment)


def generate_xer(activities: int = 4000, relationships: int = 6000, seed: int = 0) -> bytes:
    """An XER file of one project with this many activities and relationships."""
    if relationships < activities - 1:
        raise ValueError("need at least one relationship per activity but the first")
    rng = random.Random(seed)
    lines = ["ERMHDR\t19.12\t2026-03-02\tProject\tadmin\tplanner\tdbxDatabaseNoName\t"
             "Project Management\tEUR"]

    def table(name: str, fields: list[str], rows: list[list[object]]) -> None:
        lines.append(f"%T\t{name}")
        lines.append("%F\t" + "\t".join(fields))
        lines.extend("%R\t" + "\t".join("" if v is None else str(v) for v in row)
                     for row in rows)

    table("PROJECT", ["proj_id", "proj_short_name", "clndr_id", "last_recalc_date",
                      "plan_start_date", "plan_end_date"],
          [[1, "BENCH", 1, _stamp(_DATA_DATE), "2026-01-05 08:00", ""]])
    table("CALENDAR", ["clndr_id", "default_flag", "clndr_name", "proj_id", "clndr_type",
                       "day_hr_cnt", "clndr_data"],
          [[cid, "Y" if cid == "1" else "N", name, "", "CA_Base", hours, data]
           for cid, name, hours, data in _calendars()])
    table("SCHEDOPTIONS", ["schedoptions_id", "proj_id", "sched_retained_logic",
                           "sched_progress_override", "sched_float_type",
                           "sched_calendar_on_relationship_lag"],
          [[1, 1, "Y", "N", "FT_FF", "rcal_Predecessor"]])
    nodes = 1 + max(1, activities // 100)
    table("PROJWBS", ["wbs_id", "proj_id", "parent_wbs_id", "wbs_short_name", "wbs_name",
                      "proj_node_flag"],
          [[100, 1, "", "BENCH", "Bench tower", "Y"]]
          + [[100 + n, 1, 100, f"L{n:02d}", f"Level {n} \u2013 façade", "N"]
             for n in range(1, nodes)])
    done = activities // 20
    active = activities // 30
    task_rows: list[list[object]] = []
    for n in range(activities):
        kind = "TT_Task"
        draw = rng.random()
        if draw < 0.03:
            kind = "TT_Mile"
        elif draw < 0.06:
            kind = "TT_FinMile"
        hours = 0 if kind != "TT_Task" else rng.choice((8, 16, 24, 40, 80))
        calendar = rng.choice(("1", "1", "1", "2", "3"))
        start = finish = None
        remaining = hours
        status = "TK_NotStart"
        if n < done:
            status = "TK_Complete"
            start = _DATA_DATE - timedelta(days=60 - n * 40 // max(done, 1))
            finish = start + timedelta(hours=max(hours, 1))
            remaining = 0
        elif n < done + active:
            status = "TK_Active"
            start = _DATA_DATE - timedelta(days=3)
            remaining = hours // 2
        constraint, constraint_date = "", None
        if status == "TK_NotStart" and rng.random() < 0.02:
            constraint = rng.choice(("CS_MSOA", "CS_MSOA", "CS_ALAP"))
            if constraint != "CS_ALAP":
                constraint_date = _DATA_DATE + timedelta(days=rng.randrange(20, 200))
        task_rows.append([
            1000 + n, 1, 101 + n % (nodes - 1), calendar, f"A{n:05d}",
            f"Activité {n} \u2013 béton coulé", kind, status, hours, remaining,
            _stamp(start), _stamp(finish), constraint, _stamp(constraint_date), 0])
    table("TASK", ["task_id", "proj_id", "wbs_id", "clndr_id", "task_code", "task_name",
                   "task_type", "status_code", "target_drtn_hr_cnt", "remain_drtn_hr_cnt",
                   "act_start_date", "act_end_date", "cstr_type", "cstr_date",
                   "phys_complete_pct"], task_rows)
    links: set[tuple[int, int]] = set()
    for successor in range(1, activities):
        links.add((rng.randrange(max(0, successor - 40), successor), successor))
    while len(links) < relationships:
        successor = rng.randrange(1, activities)
        links.add((rng.randrange(max(0, successor - 200), successor), successor))
    pred_rows: list[list[object]] = []
    for number, (predecessor, successor) in enumerate(sorted(links)):
        kind = rng.choices(("PR_FS", "PR_SS", "PR_FF", "PR_SF"), (70, 15, 12, 3))[0]
        lag = rng.choices((0, 8, 16, -8), (80, 10, 6, 4))[0]
        pred_rows.append([5000 + number, 1000 + successor, 1000 + predecessor, 1, 1, kind,
                          lag])
    table("TASKPRED", ["task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id",
                       "pred_type", "lag_hr_cnt"], pred_rows)
    lines.append("%E")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")
