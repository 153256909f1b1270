"""A schedule file of any format, told apart by its content: an IFC file's work schedule
(it opens with ``ISO-10303-21;``), CSV (``csv_schedule``), MS Project XML (it opens with
``<``) or Primavera P6 XER."""

from __future__ import annotations

from .csv_schedule import is_csv, read_csv_schedule
from .ifc_schedule import is_ifc, read_ifc_schedule
from .model import Schedule
from .mspdi import is_mspdi, read_mspdi
from .xer import read_xer


def file_format_of(data: bytes) -> str:
    """``ifc``, ``csv`` (a header naming ``code``), ``mspdi`` for an XML file (MS
    Project), else ``xer`` (P6)."""
    if is_ifc(data):
        return "ifc"
    if is_csv(data):
        return "csv"
    return "mspdi" if is_mspdi(data) else "xer"


def read_schedule(data: bytes, file_format: str | None = None, project: str | None = None
                  ) -> Schedule:
    """A schedule file as a ``Schedule``: P6 XER (``project`` when it holds several), MS
    Project XML (one project per file) or an IFC work schedule (``project``: which, when
    the file holds several); ``file_format`` as ``file_format_of`` says."""
    kind = file_format or file_format_of(data)
    if kind == "ifc":
        return read_ifc_schedule(data, project)
    if kind == "mspdi":
        return read_mspdi(data)
    if kind == "csv":
        return read_csv_schedule(data)
    return read_xer(data, project=project)
