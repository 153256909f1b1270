"""The table layer of a Primavera P6 XER file: text in, tables of rows out.

An XER file is tab-separated text: an ``ERMHDR`` line, then for each table a ``%T`` line
(its name), a ``%F`` line (its fields) and ``%R`` lines (its rows), and ``%E`` at the end.
P6 writes it in the Windows code page (Windows-1252 in the West); a file that is valid
UTF-8 is read as UTF-8. Every row remembers its line, so later errors can name it.

>>> tables = read_tables(b"ERMHDR\\t19.12\\n%T\\tPROJECT\\n%F\\tproj_id\\tproj_short_name\\n"
...                      b"%R\\t7\\tCaf\\xe9\\n%E\\n")
>>> row = tables["PROJECT"].rows[0]
>>> row["proj_short_name"], row.line
('Café', 4)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import ScheduleImportError

_UNDEFINED = re.compile("[\udc80-\udcff]")


class Row(dict[str, str]):
    """One ``%R`` line as field name -> text (empty text for an empty field)."""

    __slots__ = ("line",)

    def __init__(self, values: dict[str, str], line: int) -> None:
        super().__init__(values)
        self.line = line


@dataclass
class Table:
    name: str
    fields: list[str]
    line: int
    rows: list[Row] = field(default_factory=list)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


def decode(data: bytes) -> list[str]:
    """The file's lines as text: UTF-8 if it is that, else Windows-1252.

    >>> decode(b"ERMHDR\\r\\n%R\\t\\x93caf\\xe9\\x94 \\x81\\x0c\\r\\n")
    ['ERMHDR', '%R\\t\u201ccafé\u201d \\x81\\x0c']
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="surrogateescape")
        # the five bytes Windows-1252 leaves undefined: keep each as Latin-1 does
        text = _UNDEFINED.sub(lambda found: chr(ord(found[0]) - 0xDC00), text)
    # CR LF, LF or a lone CR (older exports) end a line; str.splitlines would also split a
    # name at a form feed or a Unicode line separator
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removesuffix("\n").split("\n")


def read_tables(data: bytes) -> dict[str, Table]:
    """Every table of the file, or ``ScheduleImportError`` naming the first bad line."""
    lines = decode(data)
    if not lines or not lines[0].startswith("ERMHDR"):
        first = lines[0][:40] if lines else ""
        raise ScheduleImportError(f"line 1: not a P6 XER file (it should begin with ERMHDR, "
                                  f"not {first!r})", line=1)
    tables: dict[str, Table] = {}
    current: Table | None = None
    ended = False
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        if ended:
            raise ScheduleImportError(f"line {number}: text after the %E end mark",
                                      line=number)
        marker, _, rest = text.partition("\t")
        if marker == "%T":
            name = rest.strip()
            if not name:
                raise ScheduleImportError(f"line {number}: a %T line without a table name",
                                          line=number)
            if name in tables:
                raise ScheduleImportError(f"line {number}: table {name} appears twice "
                                          f"(first at line {tables[name].line})", line=number)
            current = tables[name] = Table(name, [], number)
        elif marker == "%F":
            if current is None or current.fields:
                raise ScheduleImportError(f"line {number}: a %F field list outside a table "
                                          "or twice in one", line=number)
            current.fields = [name.strip() for name in rest.split("\t")]
        elif marker == "%R":
            if current is None or not current.fields:
                raise ScheduleImportError(f"line {number}: a %R row before its table's %T "
                                          "and %F lines", line=number)
            values = rest.split("\t")
            if len(values) > len(current.fields):
                raise ScheduleImportError(
                    f"line {number}: a {current.name} row has {len(values)} fields, the "
                    f"table has {len(current.fields)}", line=number)
            # P6 and hand-edited files may leave trailing empty fields off
            values.extend([""] * (len(current.fields) - len(values)))
            current.rows.append(Row(dict(zip(current.fields, values, strict=True)), number))
        elif marker.strip() == "%E":
            ended = True
        else:
            raise ScheduleImportError(f"line {number}: expected %T, %F, %R or %E, found "
                                      f"{text[:40]!r}", line=number)
    return tables
