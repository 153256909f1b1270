"""The schedule's report as a file: CSV, or an XLSX workbook whose figures are numbers.

Both hold the rows of ``Analysis.report_rows`` (one per activity, WBS node and the
project, columns ``REPORT_COLUMNS``); the workbook adds a sheet saying what it is of.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ..schedule.earned import EVM_FIELDS
from .plan_analysis import REPORT_COLUMNS

#: Columns written as numbers in the workbook (the others are text: codes such as MS
#: Project's UIDs look like numbers but are names).
NUMERIC = frozenset({"total_float_hours", "planned_percent", "actual_percent", "days",
                     *EVM_FIELDS})


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def xlsx_bytes(rows: Sequence[Sequence[str]], about: Sequence[tuple[str, str]]) -> bytes:
    """A workbook: sheet ``Report`` (the rows, figures as numbers, empty cells for none)
    and sheet ``About`` (``about``: the schedule, its version, the date it is as of)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    report = book.create_sheet("Report")
    report.append(list(REPORT_COLUMNS))
    numeric = [name in NUMERIC for name in REPORT_COLUMNS]
    for row in rows:
        report.append([(float(cell) if is_number and cell else (cell or None))
                       for cell, is_number in zip(row, numeric, strict=True)])
    sheet = book.create_sheet("About")
    for pair in about:
        sheet.append(list(pair))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
