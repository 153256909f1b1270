"""Typed calls into IfcOpenShell where its own type hints stop.

IfcOpenShell ships type hints, but some of the calls twinsync makes are declared without
parameter or return types: ``entity_instance.is_a(*args)``, the parse logger's methods, the
geometry settings' constructor and the schema's declarations of attributes, and the geometry
kernel takes its ``geometry_library`` as a literal type. Strict mypy refuses to call them
from typed code. Each is wrapped here once, with the types it has at run time, so the
importer and the geometry workers stay typed and the exceptions to the type checker sit in
one place.
"""

from __future__ import annotations

from typing import cast

import ifcopenshell
import ifcopenshell.geom
import ifcopenshell.ifcopenshell_wrapper
from ifcopenshell.geom.main import GEOMETRY_LIBRARY

_logger = ifcopenshell.ifcopenshell_wrapper.logger


def is_a(entity: ifcopenshell.entity_instance, ifc_class: str) -> bool:
    """Whether ``entity`` is an instance of ``ifc_class`` or of one of its subtypes."""
    # The stub declares is_a(self, *args) with no types; with a class name it returns a bool.
    return bool(entity.is_a(ifc_class))  # type: ignore[no-untyped-call]


def class_of(entity: ifcopenshell.entity_instance) -> str:
    """The entity's IFC class, e.g. ``"IfcWall"``."""
    # The stub declares is_a(self, *args) with no types; without arguments it returns the name.
    return str(entity.is_a())  # type: ignore[no-untyped-call]


def attribute_types(entity: ifcopenshell.entity_instance) -> list[tuple[str, str]]:
    """Each attribute of the entity's class, in order: its name, and the name of the type it
    is declared with (``"IfcPositiveLengthMeasure"``, ``"IfcDoorPanelOperationEnum"``)."""
    found = []
    # The declaration's classes come from the SWIG wrapper, which carries no type hints.
    for attribute in entity.declaration.all_attributes():  # type: ignore[attr-defined]
        kind = attribute.type_of_attribute()
        declared = kind.declared_type() if hasattr(kind, "declared_type") else None
        found.append((str(attribute.name()), str(declared.name()) if declared else ""))
    return found


def in_memory_log() -> ifcopenshell.ifcopenshell_wrapper.logger:
    """A parse logger that keeps its messages for ``log_messages()`` instead of printing."""
    log = _logger()
    # The stub declares output_format(self, *args) with no types.
    log.output_format(_logger.FMT_INMEMORY)  # type: ignore[no-untyped-call]
    return log


def max_severity(log: ifcopenshell.ifcopenshell_wrapper.logger) -> int:
    """The highest severity the log holds (compare with ``logger.LOG_ERROR``)."""
    # The stub declares max_severity(self) with no return type; it is the level as an int.
    return int(log.max_severity())  # type: ignore[no-untyped-call]


def geometry_settings() -> ifcopenshell.geom.settings:
    """Fresh settings for a geometry kernel."""
    # settings_mixin.__init__(self, **kwargs) carries no annotations.
    return ifcopenshell.geom.settings()  # type: ignore[no-untyped-call]


def shape_kernel(settings: ifcopenshell.geom.settings, model: ifcopenshell.file,
                 kernel: str) -> ifcopenshell.geom.kernel:
    """A geometry kernel bound to ``model`` that tessellates one product at a time.

    ``kernel`` must be one of ``available_kernels()``, all names the ``geometry_library``
    literal type allows.
    """
    return ifcopenshell.geom.kernel(settings, model, geometry_library=cast(GEOMETRY_LIBRARY,
                                                                            kernel))
