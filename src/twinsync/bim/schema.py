"""Which IFC schemas twinsync reads and writes, and how their names are spelled.

IfcOpenShell 0.9 ships IFC2X3, IFC4 and one IFC4X3 schema, ``IFC4X3_ADD2``, and its parser
refuses a file whose header names any other spelling. Files in the wild name IFC4X3 in
several ways (``IFC4X3``, ``IFC4X3_TC1``, ``IFC4X3_ADD1``, ``IFC4X3_ADD2``): each is one of the
releases of IFC 4.3, and each later one corrects and extends the earlier ones without
removing what twinsync reads, so all of them are read with the newest IFC4X3 schema
IfcOpenShell ships (``parser_schema``).

>>> schema_identifier("ifc4x3")
'IFC4X3'
>>> schema_family("IFC4X3_ADD2")
'IFC4X3'
>>> parser_schema("IFC4X3_TC1")
'IFC4X3_ADD2'
"""

from __future__ import annotations

from functools import cache

import ifcopenshell.ifcopenshell_wrapper

SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
# The releases of IFC 4.3, newest first.
_IFC4X3_RELEASES = ("IFC4X3_ADD2", "IFC4X3_ADD1", "IFC4X3_TC1", "IFC4X3")


def schema_family(identifier: str) -> str | None:
    """The supported schema ``identifier`` belongs to, or None."""
    name = identifier.strip().upper()
    if name in _IFC4X3_RELEASES:
        return "IFC4X3"
    if name in ("IFC2X3", "IFC4"):
        return name
    return None


def schema_identifier(schema: str) -> str:
    """The name to give ``ifcopenshell.api.project.create_file`` for a supported schema."""
    family = schema_family(schema)
    if family is None:
        raise ValueError(f"schema {schema!r} is not one of {', '.join(SCHEMAS)}")
    return family


def parser_schema(identifier: str) -> str:
    """The schema IfcOpenShell parses a file declaring ``identifier`` with (a supported one)."""
    family = schema_identifier(identifier)
    if family != "IFC4X3":
        return family
    return _newest_ifc4x3()


@cache
def _newest_ifc4x3() -> str:
    shipped = set(ifcopenshell.ifcopenshell_wrapper.schema_names())
    for release in _IFC4X3_RELEASES:
        if release in shipped:
            return release
    raise RuntimeError("this IfcOpenShell ships no IFC4X3 schema")
