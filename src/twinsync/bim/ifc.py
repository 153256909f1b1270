"""Typed calls into IfcOpenShell where its own type hints stop.

IfcOpenShell ships type hints, but some of the calls twinsync makes are declared without
parameter or return types: ``entity_instance.is_a(*args)``, the parse logger's methods, the
geometry settings' constructor, the glTF serializer's methods and the geometry iterator's
``get``, and the schema's declarations of attributes. Strict mypy refuses to call them
from typed code. Each is wrapped here once, with the types it has at run time, so the
importer and the GLB export stay typed and the exceptions to the type checker sit in one
place.
"""

from __future__ import annotations

from typing import Protocol, cast

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
    """Fresh settings for the geometry iterator and serializers."""
    # settings_mixin.__init__(self, **kwargs) carries no annotations.
    return ifcopenshell.geom.settings()  # type: ignore[no-untyped-call]


class GeometrySerializer(Protocol):
    """The calls twinsync makes on an IfcOpenShell geometry serializer."""

    def setFile(self, file: ifcopenshell.file) -> None: ...

    def setUnitNameAndMagnitude(self, name: str, magnitude: float) -> None: ...

    def writeHeader(self) -> None: ...

    def write(self, shape: object) -> None: ...

    def finalize(self) -> None: ...


class ShapeIterator(Protocol):
    """The calls twinsync makes on IfcOpenShell's geometry iterator."""

    def initialize(self) -> bool: ...

    def get(self) -> object: ...

    def next(self) -> object: ...


def gltf_serializer(path: str, settings: ifcopenshell.geom.settings) -> GeometrySerializer:
    """IfcOpenShell's binary glTF serializer writing to ``path``."""
    # Its stub leaves the methods GeometrySerializer names without types; the cast adds them.
    return cast(GeometrySerializer, ifcopenshell.geom.serializers.gltf(path, settings))


def shape_iterator(settings: ifcopenshell.geom.settings, model: ifcopenshell.file, *,
                   kernel: str, exclude: list[str], threads: int) -> ShapeIterator:
    """The geometry iterator over ``model``'s products, less the classes in ``exclude``.

    ``kernel`` must be one of ``available_kernels()``: all of them are names the
    iterator's ``geometry_library`` literal type allows.
    """
    # The iterator's get() is redefined without types when pythonOCC is installed.
    return cast(ShapeIterator, ifcopenshell.geom.iterator(
        settings, model, threads, exclude=exclude,
        geometry_library=cast(GEOMETRY_LIBRARY, kernel)))
