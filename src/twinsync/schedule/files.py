"""A schedule file of either format, told apart by its content: MS Project XML (it opens
with ``<``) or Primavera P6 XER."""

from __future__ import annotations

from .model import Schedule
from .mspdi import is_mspdi, read_mspdi
from .xer import read_xer


def file_format_of(data: bytes) -> str:
    """``mspdi`` for an XML file (MS Project), else ``xer`` (P6)."""
    return "mspdi" if is_mspdi(data) else "xer"


def read_schedule(data: bytes, file_format: str | None = None, project: str | None = None
                  ) -> Schedule:
    """A schedule file as a ``Schedule``: P6 XER (``project`` when it holds several) or
    MS Project XML (one project per file); ``file_format`` as ``file_format_of`` says."""
    if (file_format or file_format_of(data)) == "mspdi":
        return read_mspdi(data)
    return read_xer(data, project=project)
