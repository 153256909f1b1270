"""P6 calendar data (``CALENDAR.clndr_data``) to a ``WorkCalendar``.

The field is a tree of nodes written ``(0||NAME(ATTRS)(CHILDREN))``, where ATTRS is
``key|value|key|value…`` and CHILDREN more nodes::

    (0||CalendarData()(
      (0||DaysOfWeek()(
        (0||1()())                                   Sunday: no work
        (0||2()((0||0(s|08:00|f|12:00)())(0||1(s|13:00|f|17:00)())))   Monday
        …  (0||7()())))                              7 is Saturday
      (0||Exceptions()(
        (0||0(d|46023)())                            a holiday: a date with no periods
        (0||1(d|46030)((0||0(s|08:00|f|12:00)()))))))   a changed day

Dates are day serials counted from 1899-12-30 (as spreadsheets count them); a finish of
``00:00`` or ``24:00`` means midnight at the end of the day. P6 may break the text over
lines (and pad it with 0x7F characters): whitespace between the marks does not matter.

>>> text = "(0||CalendarData()((0||DaysOfWeek()((0||2()((0||0(s|08:00|f|16:00)())))))"
>>> text += "(0||Exceptions()((0||0(d|46083)())))))"
>>> calendar = parse_clndr_data("1", "Site", text)
>>> calendar.week[0], calendar.week[1], sorted(calendar.exceptions.items())
(((480, 960),), (), [(datetime.date(2026, 3, 2), ())])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..errors import ScheduleImportError
from .calendar import MINUTES_PER_DAY, Period, WorkCalendar, standard_week

_SERIAL_ZERO = date(1899, 12, 30)


@dataclass
class _Node:
    name: str
    attrs: dict[str, str]
    children: list[_Node] = field(default_factory=list)

    def child(self, name: str) -> _Node | None:
        for node in self.children:
            if node.name.lower() == name.lower():
                return node
        return None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = "".join(ch for ch in text if not ch.isspace() and ch != "\x7f")
        self.at = 0

    def fail(self, what: str) -> ScheduleImportError:
        near = self.text[max(0, self.at - 20):self.at + 20]
        return ScheduleImportError(f"calendar data: {what} at character {self.at} (near "
                                   f"{near!r})", "bad_calendar")

    def expect(self, mark: str) -> None:
        if not self.text.startswith(mark, self.at):
            raise self.fail(f"expected {mark!r}")
        self.at += len(mark)

    def until(self, mark: str) -> str:
        end = self.text.find(mark, self.at)
        if end < 0:
            raise self.fail(f"no closing {mark!r}")
        found = self.text[self.at:end]
        self.at = end + len(mark)
        return found

    def node(self) -> _Node:
        self.expect("(")
        self.until("||")  # the node's index among its siblings: order is enough
        name_end = self.text.find("(", self.at)
        if name_end < 0:
            raise self.fail("a node without attributes")
        name = self.text[self.at:name_end]
        self.at = name_end + 1
        raw = self.until(")")
        parts = raw.split("|") if raw else []
        attrs = {parts[i].lower(): parts[i + 1] for i in range(0, len(parts) - 1, 2)}
        self.expect("(")
        children = []
        while self.text.startswith("(", self.at):
            children.append(self.node())
        self.expect(")")
        self.expect(")")
        return _Node(name, attrs, children)


def _minutes(text: str, finish: bool) -> int:
    hours, _, minutes = text.partition(":")
    try:
        value = int(hours) * 60 + int(minutes or 0)
    except ValueError:
        raise ScheduleImportError(f"calendar data: {text!r} is not a time of day",
                                  "bad_calendar") from None
    if finish and value == 0:
        return MINUTES_PER_DAY
    if not 0 <= value <= MINUTES_PER_DAY:
        raise ScheduleImportError(f"calendar data: {text!r} is not a time of day",
                                  "bad_calendar")
    return value


def _periods(node: _Node) -> tuple[Period, ...]:
    periods: list[Period] = []
    for child in node.children:
        if "s" not in child.attrs or "f" not in child.attrs:
            continue
        start, end = _minutes(child.attrs["s"], False), _minutes(child.attrs["f"], True)
        if end > start:
            periods.append((start, end))
    periods.sort()
    merged: list[Period] = []
    for start, end in periods:  # overlapping periods count once
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def parse_clndr_data(calendar_id: str, name: str, text: str,
                     hours_per_day: float = 8.0) -> WorkCalendar:
    """A ``WorkCalendar`` from P6's calendar data; an empty field gives Monday to Friday
    from 08:00 for ``hours_per_day`` hours."""
    if not text.strip():
        minutes = round(hours_per_day * 60) or 8 * 60
        return WorkCalendar(calendar_id, name, standard_week(8 * 60, min(
            MINUTES_PER_DAY, 8 * 60 + minutes)), {}, hours_per_day)
    reader = _Reader(text)
    root = reader.node()
    week: list[tuple[Period, ...]] = [()] * 7
    days = root.child("DaysOfWeek")
    if days is not None:
        for day in days.children:
            try:
                p6_day = int(day.name)  # 1 is Sunday ... 7 Saturday
            except ValueError:
                continue
            if 1 <= p6_day <= 7:
                week[(p6_day + 5) % 7] = _periods(day)  # Monday first
    exceptions: dict[date, tuple[Period, ...]] = {}
    found = root.child("Exceptions")
    if found is not None:
        for exception in found.children:
            serial = exception.attrs.get("d")
            if serial is None:
                continue
            try:
                when = _SERIAL_ZERO + timedelta(days=int(float(serial)))
            except (ValueError, OverflowError):
                raise ScheduleImportError(f"calendar {calendar_id}: {serial!r} is not a date "
                                          "serial", "bad_calendar") from None
            exceptions[when] = _periods(exception)
    return WorkCalendar(calendar_id, name, tuple(week), exceptions, hours_per_day)
