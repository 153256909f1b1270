"""Which IFC schemas twinsync reads and writes, and how their names are spelled.

IfcOpenShell 0.9 bundles IFC2X3, IFC4 and IFC4X3_ADD2. Files in the wild name IFC4X3 in
several ways (``IFC4X3``, ``IFC4X3_ADD1``, ``IFC4X3_ADD2``, ``IFC4X3_TC1``); all of them
are read with the ADD2 schema, which is a superset for what twinsync needs.

>>> schema_identifier("ifc4x3")
'IFC4X3'
>>> schema_family("IFC4X3_ADD2")
'IFC4X3'
"""

from __future__ import annotations

SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")


def schema_family(identifier: str) -> str | None:
    """The supported schema ``identifier`` belongs to, or None."""
    name = identifier.strip().upper()
    if name.startswith("IFC4X3"):
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
