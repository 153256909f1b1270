"""A small MS Project XML (MSPDI) file written by hand, in the shape MS Project saves.

Calendar 1 (the project's): Monday to Friday 08:00-12:00 and 13:00-17:00, Wednesday
4 March 2026 off. Calendar 2 derives from it and adds Saturday mornings. Status date
Monday 2 March 2026 08:00.

    UID 1  Level 1 (summary)
    UID 2    Slab L1      16 h, cost 1000, baseline 2-3 March
    UID 3    Columns L1   24 h on calendar 2, FS after 2 with 8 h lag (4800 tenths)
    UID 4  Level 2 (summary)
    UID 5    Slab L2      8 h, start no earlier than Monday 16 March, FS after 3
    UID 6  Topped out     milestone, FS after 5
"""

from __future__ import annotations

DAY = ("<DayWorking>1</DayWorking><WorkingTimes>"
       "<WorkingTime><FromTime>08:00:00</FromTime><ToTime>12:00:00</ToTime></WorkingTime>"
       "<WorkingTime><FromTime>13:00:00</FromTime><ToTime>17:00:00</ToTime></WorkingTime>"
       "</WorkingTimes>")
WEEK = ("<WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>"
        + "".join(f"<WeekDay><DayType>{d}</DayType>{DAY}</WeekDay>" for d in range(2, 7))
        + "<WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>")


def task(uid: int, name: str, level: int, body: str = "", *, summary: bool = False) -> str:
    return (f"<Task><UID>{uid}</UID><ID>{uid}</ID><Name>{name}</Name>"
            f"<OutlineLevel>{level}</OutlineLevel><Summary>{int(summary)}</Summary>{body}</Task>")


def link(predecessor: int, lag: int = 0, kind: int = 1) -> str:
    return (f"<PredecessorLink><PredecessorUID>{predecessor}</PredecessorUID><Type>{kind}</Type>"
            f"<LinkLag>{lag}</LinkLag><LagFormat>7</LagFormat></PredecessorLink>")


TASKS = [
    task(0, "Tower", 0, summary=True),
    task(1, "Level 1", 1, "<WBS>1</WBS>", summary=True),
    task(2, "Slab L1", 2, "<WBS>1.1</WBS><Duration>PT16H0M0S</Duration><Cost>1000</Cost>"
         "<ActualCost>0</ActualCost><Baseline><Number>0</Number>"
         "<Start>2026-03-02T08:00:00</Start><Finish>2026-03-03T17:00:00</Finish></Baseline>"),
    task(3, "Columns L1", 2, "<Duration>PT24H0M0S</Duration><CalendarUID>2</CalendarUID>"
         + link(2, lag=4800)),
    task(4, "Level 2", 1, "<WBS>2</WBS>", summary=True),
    task(5, "Slab L2", 2, "<Duration>PT8H0M0S</Duration><ConstraintType>4</ConstraintType>"
         "<ConstraintDate>2026-03-16T08:00:00</ConstraintDate>" + link(3)),
    task(6, "Topped out", 1, "<Milestone>1</Milestone><Duration>PT0H0M0S</Duration>" + link(5)),
]


def tower_mspdi(tasks: list[str] | None = None) -> bytes:
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
            "<Project xmlns=\"http://schemas.microsoft.com/project\">\n"
            "<Name>Tower.xml</Name><Title>Tower</Title>"
            "<StartDate>2026-03-02T08:00:00</StartDate>"
            "<StatusDate>2026-03-02T08:00:00</StatusDate><MinutesPerDay>480</MinutesPerDay>"
            "<CalendarUID>1</CalendarUID>\n<Calendars>"
            "<Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar>"
            f"<BaseCalendarUID>-1</BaseCalendarUID><WeekDays>{WEEK}</WeekDays>"
            "<Exceptions><Exception><TimePeriod><FromDate>2026-03-04T00:00:00</FromDate>"
            "<ToDate>2026-03-04T23:59:00</ToDate></TimePeriod><DayWorking>0</DayWorking>"
            "</Exception></Exceptions></Calendar>"
            "<Calendar><UID>2</UID><Name>Six days</Name><IsBaseCalendar>0</IsBaseCalendar>"
            "<BaseCalendarUID>1</BaseCalendarUID><WeekDays><WeekDay><DayType>7</DayType>"
            "<DayWorking>1</DayWorking><WorkingTimes><WorkingTime><FromTime>08:00:00"
            "</FromTime><ToTime>12:00:00</ToTime></WorkingTime></WorkingTimes></WeekDay>"
            "</WeekDays></Calendar>"
            "<Calendar><UID>9</UID><Name>Nobody's</Name><IsBaseCalendar>1</IsBaseCalendar>"
            "<WeekDays></WeekDays></Calendar>"
            "</Calendars>\n<Tasks>\n" + "\n".join(tasks or TASKS) + "\n</Tasks>\n</Project>\n"
            ).encode("utf-8")
