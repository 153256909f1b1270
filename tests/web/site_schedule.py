"""A schedule for the demo building, dated around today, as a site would keep it in a
spreadsheet (CSV), with the rules that link its activities to the model and the progress
the site reported. Every date and standing the tests expect follows from what is here.

Each storey (bottom up, ``Level 0`` → codes ``L0-…``) has a slab (40 h), then its columns
(24 h), then its walls (40 h, FS after the columns) and windows (24 h, SS +16 h after the
walls). The next storey's slab follows the columns below it, so the critical path runs
slab, columns, slab, columns… up to the top storey's walls and windows, then the
milestone ``TOP``. Walls and windows of the lower storeys have float. Work days are
Monday to Friday, 08:00-12:00 and 13:00-17:00.

The schedule starts on the Monday three weeks before this week's Monday (``start``).
Progress reported (each report dated when it was made):

- ``L0-SLAB``: 40 % on day 1, 100 % on day 4 17:00 (its planned finish): on track.
- ``L0-COL``: 100 % on day 6 17:00, a day before its planned finish (day 7): ahead.
- ``L1-SLAB``: 50 % on day 9, not touched since: behind by now.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx

#: Hours of each activity of a storey, and how it follows.
SLAB, COLUMNS, WALLS, WINDOWS = 40, 24, 40, 24


def first_monday(today: date | None = None) -> datetime:
    """The schedule's first day: the Monday three weeks before this week's, at 08:00."""
    today = today or date.today()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=3)
    return datetime(monday.year, monday.month, monday.day, 8, 0)


def work_day(start: datetime, index: int, hour: int = 8) -> datetime:
    """The ``index``-th work day (0-based, Monday to Friday) from ``start``, at ``hour``."""
    day = start.date()
    remaining = index
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime(day.year, day.month, day.day, hour, 0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def level_tag(storey: str) -> str:
    """An activity code's prefix for a storey: ``Level 0`` → ``L0``."""
    return f"L{storey.split()[-1]}"


def schedule_csv(storeys: list[str], start: datetime) -> bytes:
    """The CSV file: WBS ``Riverside/<storey>``, four activities per storey and ``TOP``."""
    lines = ["# project=RIVERSIDE", f"# data_date={stamp(start)}",
             "code,name,wbs,duration_hours,predecessors"]
    for index, storey in enumerate(storeys):
        tag = level_tag(storey)
        before = f"{level_tag(storeys[index - 1])}-COL" if index else ""
        wbs = f"Riverside/{storey}"
        lines += [f"{tag}-SLAB,Slab {storey},{wbs},{SLAB},{before}",
                  f"{tag}-COL,Columns {storey},{wbs},{COLUMNS},{tag}-SLAB",
                  f"{tag}-WALL,Walls {storey},{wbs},{WALLS},{tag}-COL",
                  f"{tag}-WIN,Windows {storey},{wbs},{WINDOWS},{tag}-WALL SS +16"]
    ends = [f"{level_tag(storey)}-{kind}" for storey in storeys for kind in ("WALL", "WIN")]
    lines.append(f"TOP,Topped out,Riverside,0,{';'.join(ends)}")
    return ("\n".join(lines) + "\n").encode()


def link_rules(storeys: list[str]) -> list[dict[str, Any]]:
    """Each storey's slabs, columns, walls and windows to its activities."""
    classes = {"SLAB": "IfcSlab", "COL": "IfcColumn", "WALL": "IfcWall", "WIN": "IfcWindow"}
    return [{"activities": f"{level_tag(storey)}-{kind}", "ifc_class": ifc_class,
             "storey": storey} for storey in storeys for kind, ifc_class in classes.items()]


def reports(start: datetime) -> list[tuple[str, dict[str, Any]]]:
    """The progress the site reported, as (activity, body of the progress route)."""
    return [
        ("L0-SLAB", {"percent_complete": 40, "date": stamp(work_day(start, 1, 17)),
                     "actual_start": stamp(start)}),
        ("L0-SLAB", {"percent_complete": 100, "date": stamp(work_day(start, 4, 17))}),
        ("L0-COL", {"percent_complete": 100, "date": stamp(work_day(start, 6, 17)),
                    "actual_start": stamp(work_day(start, 5))}),
        ("L1-SLAB", {"percent_complete": 50, "date": stamp(work_day(start, 9, 17)),
                     "actual_start": stamp(work_day(start, 8))}),
    ]


def import_site_schedule(api: httpx.Client, start: datetime) -> list[str]:
    """Import the schedule into the twin ``api`` talks to; the storeys' names, bottom up."""
    storeys = [s["name"] for s in api.get("/api/project").json()["storeys"]]
    storeys.sort(key=lambda name: int(name.split()[-1]))
    answer = api.post("/api/schedules", params={"name": "riverside.csv"},
                      content=schedule_csv(storeys, start),
                      headers={"content-type": "application/octet-stream"})
    answer.raise_for_status()
    for rule in link_rules(storeys):
        api.post("/api/schedule/link-rules", json=rule).raise_for_status()
    for code, body in reports(start):
        api.post(f"/api/schedule/activities/{code}/progress", json=body).raise_for_status()
    return storeys
