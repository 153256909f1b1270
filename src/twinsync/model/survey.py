"""A reality-capture survey (a drone flight, a laser scan) as the twin reads it: per
element, how much of it is built and how sure the survey is, as JSON or CSV.

JSON::

    {"date": "2026-03-10 12:00", "elements": [
        {"element": "2O2Fr$t4X7Zf8NOew3FLOH", "percent_complete": 60, "confidence": 0.85}]}

CSV, with a header naming at least ``element`` and ``percent_complete``::

    element,percent_complete,confidence
    slab-1,60,0.85

An element is named by its id or its IFC GlobalId; a confidence left out is the source's
default. Every row is checked before any is used: a bad one refuses the survey, naming
its row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

import orjson

from ..errors import InvalidInput
from . import validate
from .plan_records import parse_day

#: At most this many rows in one survey.
MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class SurveyRow:
    element: str
    percent_complete: float
    confidence: float | None


@dataclass(frozen=True, slots=True)
class Survey:
    date: datetime | None
    rows: tuple[SurveyRow, ...]


def parse_survey(data: bytes) -> Survey:
    text = data.lstrip(b"\xef\xbb\xbf").strip()
    if not text:
        raise InvalidInput("the survey is empty", "no_file")
    if text[:1] == b"{":
        return _json(text)
    return _csv(text)


def _row(number: int, element: object, percent: object, confidence: object, *,
         text: bool) -> SurveyRow:
    """``text``: the values are CSV cells, read as numbers; a JSON value is taken as it is
    (``"60"`` in JSON is refused, as ``validate.number`` refuses strings everywhere)."""
    read = _number if text else _as_is
    try:
        if not isinstance(element, str) or not element:
            raise InvalidInput("it names no element", "bad_survey")
        return SurveyRow(
            element,
            validate.number(read(percent), "percent_complete", low=0.0, high=100.0),
            None if confidence in (None, "") else validate.confidence(read(confidence)))
    except InvalidInput as exc:
        raise InvalidInput(f"survey row {number}: {exc}", "bad_survey") from None


def _as_is(value: object) -> object:
    return value


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise InvalidInput(f"{validate.shown(value)} is not a number",
                               "bad_survey") from None
    return value


def _json(text: bytes) -> Survey:
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the survey is not JSON: {exc}", "bad_survey") from exc
    body = validate.mapping(body, "a survey")
    elements = body.get("elements")
    if not isinstance(elements, list):
        raise InvalidInput("a survey lists its elements in 'elements'", "bad_survey")
    if len(elements) > MAX_ROWS:
        raise InvalidInput(f"{len(elements)} rows; at most {MAX_ROWS}", "too_many")
    rows = []
    for number, item in enumerate(elements, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"survey row {number} is not an object", "bad_survey")
        rows.append(_row(number, item.get("element"), item.get("percent_complete"),
                         item.get("confidence"), text=False))
    return Survey(parse_day(body.get("date"), "date"), tuple(rows))


def _csv(text: bytes) -> Survey:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the survey is not UTF-8 text: {exc}", "bad_survey") from exc
    reader = csv.DictReader(io.StringIO(decoded))
    fields = reader.fieldnames or []
    missing = [name for name in ("element", "percent_complete") if name not in fields]
    if missing:
        raise InvalidInput(f"the survey's header lacks {', '.join(missing)} (it has "
                           f"{', '.join(fields)[:200] or 'nothing'})", "bad_survey")
    rows = []
    for number, record in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise InvalidInput(f"more than {MAX_ROWS} rows", "too_many")
        rows.append(_row(number, record.get("element"), record.get("percent_complete"),
                         record.get("confidence"), text=True))
    return Survey(None, tuple(rows))
