"""Reading an IFC file into twinsync's terms: elements, sensors and bindings.

The whole file is read and checked before anything is returned, so a caller either gets
the complete contents of a model or a ``ModelImportError`` and nothing else: a file that
is not IFC (``not_ifc``), one that is cut short or does not parse (``broken_ifc``, with the
line where the parser stopped), one in a schema twinsync does not read
(``unsupported_schema``), or one whose elements' GlobalIds are not IFC GlobalIds
(``bad_global_id``).

What counts as an element: the spatial structure below the project (site, building,
storey, space) and every physical ``IfcElement`` (built elements, distribution elements
such as sensors and flow terminals, furnishings, assemblies), but not openings and other
feature elements, virtual elements, annotations or grids. Each becomes an ``Element``
keyed by its GlobalId whose ``parent`` is its spatial container.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ifcopenshell
import ifcopenshell.ifcopenshell_wrapper
import ifcopenshell.util.element

from ..errors import ModelImportError
from ..model import Binding, Element, PropertyValue, Sensor, Source
from .ifc import class_of, in_memory_log, is_a, max_severity
from .properties import element_properties
from .schema import SCHEMAS, parser_schema, schema_family
from .sensors import SENSOR_PSET, read_sensor
from .space_boundaries import adjacent_spaces
from .units import ModelUnits

SPATIAL_CLASSES = ("IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace")
#: The property a space's neighbouring spaces are kept in (``space_boundaries``).
ADJACENT_SPACES = "adjacent_spaces"
# IfcElement subtypes that are not physical things on site.
_NOT_PHYSICAL = ("IfcFeatureElement", "IfcVirtualElement")
_HEADER_SCHEMA = re.compile(rb"FILE_SCHEMA\s*\(\s*\(\s*'([^']*)'", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"
# An IFC GlobalId: 128 bits in 22 characters of IFC's base 64, so the first is 0-3.
_GLOBAL_ID = re.compile(r"[0-3][0-9A-Za-z_$]{21}")
_OFFSET = re.compile(r"\s*at offset (\d+)")
# The parser's words for what went wrong, where they name C++ types or garble.
_PARSER_WORDS = (
    (re.compile(r"Inconsistent aggregate valuation.*"),
     "a list holds a value of the wrong type (a bracket too many or too few?)"),
    (re.compile(r"token (.*) invalid valid token"), r"unexpected text \1"),
)


@dataclass(slots=True)
class ModelContents:
    """Everything twinsync takes from one IFC file, read completely."""

    schema: str  # as the file names it, e.g. IFC4X3_ADD2
    revision: str  # content hash of the file: the same bytes give the same revision
    project: str
    elements: dict[str, Element] = field(default_factory=dict)  # spatial structure first
    sensors: list[Sensor] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)
    project_id: str = ""  # the IfcProject's GlobalId: which project the revision is of

    def counts(self) -> dict[str, int]:
        """Elements per IFC class."""
        return dict(Counter(element.type for element in self.elements.values()))


def revision_of(data: bytes) -> str:
    """The revision hash of a model file's bytes.

    >>> revision_of(b"ISO-10303-21;")
    'f173fe44447b57a7'
    """
    return hashlib.sha256(data).hexdigest()[:16]


def read_model(source: str | os.PathLike[str] | bytes) -> ModelContents:
    """Read an IFC file (a path, or the file's bytes) completely, or raise ModelImportError."""
    data = _read_bytes(source)
    schema = check_header(data)
    model = open_ifc(source, data)
    try:
        return _contents(model, schema, revision_of(data), data)
    except ModelImportError:
        raise
    except Exception as exc:  # a file that parsed but whose graph is inconsistent
        raise ModelImportError(f"the IFC file is broken: {exc}", "broken_ifc") from exc


def check_header(data: bytes) -> str:
    """The schema a STEP file declares, after checking it is a whole, supported IFC file."""
    head = data[:4096].removeprefix(_BOM).lstrip(b" \t\r\n")
    if not head:
        raise ModelImportError("the file is empty", "not_ifc")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ModelImportError("the file is UTF-16 text: save it as an ASCII or UTF-8 .ifc",
                               "not_ifc")
    if head.startswith(b"PK"):
        raise ModelImportError("the file is a zip archive (.ifczip): unzip it and send the .ifc",
                               "not_ifc")
    if head.startswith(b"<"):
        raise ModelImportError("the file is XML (ifcXML?): send the STEP (.ifc) file", "not_ifc")
    if not head.startswith(b"ISO-10303-21;"):
        raise ModelImportError("the file is not an IFC (STEP) file", "not_ifc")
    match = _HEADER_SCHEMA.search(data[:65536])
    if match is None:
        raise ModelImportError("the file names no schema (FILE_SCHEMA)", "broken_ifc")
    declared = match.group(1).decode("ascii", "replace")
    if schema_family(declared) is None:
        raise ModelImportError(
            f"schema {declared} is not supported: use one of {', '.join(SCHEMAS)}",
            "unsupported_schema")
    # A STEP file closes with this line; without it the file was cut short in transit.
    if not data.rstrip().endswith(b"END-ISO-10303-21;"):
        raise ModelImportError("the IFC file is truncated (no END-ISO-10303-21)", "broken_ifc")
    return declared


def _read_bytes(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ModelImportError(f"cannot read {source}: {exc.strerror}", "not_ifc") from exc


def open_ifc(source: str | os.PathLike[str] | bytes, data: bytes) -> ifcopenshell.file:
    """Parse a file whose header passed ``check_header``; any parser error is fatal.

    IfcOpenShell skips instances it cannot parse and goes on, which would import part of
    a damaged file; its log of the parse says whether that happened. It also refuses a
    byte-order mark and every IFC4X3 spelling but the one it ships: the text it is given
    has neither (``parser_text``), on the same lines as the file's.
    """
    text = parser_text(data)
    log = in_memory_log()
    try:
        if text is data and not isinstance(source, bytes | bytearray | memoryview):
            model = ifcopenshell.open(str(source), logger=log)
        else:
            # The parser reads files; a temporary copy avoids guessing the text encoding.
            with tempfile.NamedTemporaryFile(suffix=".ifc", delete=False) as handle:
                handle.write(text)
            try:
                model = ifcopenshell.open(handle.name, logger=log)
            finally:
                os.unlink(handle.name)
    except Exception as exc:  # ifcopenshell.Error, OSError, schema errors
        raise _parse_error(log, text, str(exc)) from exc
    if max_severity(log) >= ifcopenshell.ifcopenshell_wrapper.logger.LOG_ERROR:
        raise _parse_error(log, text, "")
    return model


def parser_text(data: bytes) -> bytes:
    """The file as IfcOpenShell reads it: no byte-order mark, and the schema it ships named
    in the header (``IFC4X3_ADD2`` for ``IFC4X3_TC1``). ``data`` itself when both hold."""
    text = data.removeprefix(_BOM)
    match = _HEADER_SCHEMA.search(text[:65536])
    if match is not None and schema_family(match.group(1).decode("ascii", "replace")):
        wanted = parser_schema(match.group(1).decode("ascii")).encode("ascii")
        if match.group(1) != wanted:
            text = text[:match.start(1)] + wanted + text[match.end(1):]
    return data if text == data else text


def _parse_error(log: ifcopenshell.ifcopenshell_wrapper.logger, text: bytes,
                 raised: str) -> ModelImportError:
    """What the parser found wrong, with the line of the first error that says where."""
    messages = [str(m.message) for m in log.log_messages()
                if m.severity >= ifcopenshell.ifcopenshell_wrapper.logger.LOG_ERROR]
    located = [m for m in messages if _OFFSET.search(m)]
    first = (located or messages or [raised or "unknown error"])[0]
    offset = _OFFSET.search(first)
    line = text.count(b"\n", 0, int(offset.group(1))) + 1 if offset else None
    reason = _OFFSET.sub("", first)
    for pattern, words in _PARSER_WORDS:
        reason = pattern.sub(words, reason)
    where = f" at line {line}" if line is not None else ""
    more = f" ({len(messages)} parse errors in all)" if len(messages) > 1 else ""
    return ModelImportError(f"the IFC file does not parse{where}: {reason[:300]}{more}",
                            "broken_ifc", line=line)


def _contents(model: ifcopenshell.file, schema: str, revision: str,
              data: bytes) -> ModelContents:
    projects = model.by_type("IfcProject")
    if not projects:
        raise ModelImportError("the IFC file has no IfcProject", "broken_ifc")
    units = ModelUnits(model)
    elevation_in_metres = units.conversion("IfcLengthMeasure")
    products = [p for cls in SPATIAL_CLASSES for p in model.by_type(cls)]
    products += [e for e in model.by_type("IfcElement")
                 if not any(is_a(e, cls) for cls in _NOT_PHYSICAL)]
    kept = {p.GlobalId for p in products}
    tree = _SpatialTree(model, kept)
    # Which occurrences a sensor type types, looked up once rather than per element: only
    # they, IfcSensors and elements with the sensor set are read as sensors.
    sensor_typed = {o.id() for rel in model.by_type("IfcRelDefinesByType")
                    if is_a(rel.RelatingType, "IfcSensorType") for o in rel.RelatedObjects}
    contents = ModelContents(schema=schema, revision=revision, project=projects[0].Name or "",
                             project_id=str(projects[0].GlobalId))
    for product in products:
        _check_global_id(product, data)
        # Each attribute read of an IFC entity is a look-up by name: read each once.
        global_id = product.GlobalId
        if global_id in contents.elements:
            raise ModelImportError(f"GlobalId {global_id} is used twice (again by "
                                   f"#{product.id()} at line {_line_of(product, data)})",
                                   "broken_ifc", line=_line_of(product, data))
        properties, psets = element_properties(product, units)
        ifc_class = class_of(product)
        elevation = product.Elevation if ifc_class == "IfcBuildingStorey" else None
        if elevation is not None:
            # The storey's own attribute, in metres: what orders storeys bottom to top.
            properties["Elevation"] = PropertyValue(
                elevation_in_metres.apply(float(elevation)), elevation_in_metres.unit, 0.0,
                Source.BIM, 1.0)
        contents.elements[global_id] = Element(
            id=global_id,
            type=ifc_class,
            name=product.Name or getattr(product, "LongName", None) or "",
            global_id=global_id,
            parent=tree.parent_of(product),
            properties=properties,
        )
        if ifc_class != "IfcSensor" and SENSOR_PSET not in psets \
                and product.id() not in sensor_typed:
            continue
        found = read_sensor(product, psets, kept)
        if found is not None:
            sensor, binding = found
            contents.sensors.append(sensor)
            if binding is not None:
                contents.bindings.append(binding)
    _check_sensors(contents)
    for space, neighbours in adjacent_spaces(model).items():
        element = contents.elements.get(space)
        kept_neighbours = [other for other in neighbours if other in contents.elements]
        if element is not None and kept_neighbours:
            # The spaces beside it (space boundaries): a thermal zone's neighbours.
            element.properties[ADJACENT_SPACES] = PropertyValue(
                kept_neighbours, "", 0.0, Source.BIM, 1.0)
    return contents


def _check_global_id(product: ifcopenshell.entity_instance, data: bytes) -> None:
    global_id = product.GlobalId
    if isinstance(global_id, str) and _GLOBAL_ID.fullmatch(global_id):
        return
    line = _line_of(product, data)
    raise ModelImportError(
        f"{class_of(product)} #{product.id()} at line {line} has GlobalId {global_id!r}, "
        "which is not an IFC GlobalId: 22 characters of 0-9, A-Z, a-z, _ and $, the first "
        "0-3", "bad_global_id", line=line)


def _line_of(instance: ifcopenshell.entity_instance, data: bytes) -> int | None:
    """The line of the file where ``instance`` is written, if it is found."""
    found = re.search(rb"^[ \t]*#%d[ \t]*=" % instance.id(), data, re.MULTILINE)
    return data.count(b"\n", 0, found.start()) + 1 if found else None


def spatial_parent(product: ifcopenshell.entity_instance, kept: set[str]) -> str | None:
    """The GlobalId of the nearest spatial container that is itself imported.

    Spatial elements hang from their aggregate (storey in building, space in storey);
    other elements from the structure they, or the assembly they belong to, are
    contained in.
    """
    current: ifcopenshell.entity_instance = product
    for _ in range(64):  # a cycle in a broken file must not hang the import
        if is_a(current, "IfcSpatialStructureElement") or is_a(current, "IfcSpatialElement"):
            up = ifcopenshell.util.element.get_aggregate(current)
            if up is None:
                up = ifcopenshell.util.element.get_container(current)
        else:
            up = ifcopenshell.util.element.get_container(current)
        if up is None or is_a(up, "IfcProject"):
            return None
        if up.GlobalId in kept and (is_a(up, "IfcSpatialStructureElement")
                                     or is_a(up, "IfcSpatialElement")):
            return str(up.GlobalId)
        current = up
    raise ModelImportError(f"the spatial tree above {product.GlobalId} has a cycle", "broken_ifc")


class _SpatialTree:
    """``spatial_parent`` for every element of one file, with the file's containment read
    once: asked per element, IfcOpenShell's look-up of an element's container costs more
    than reading its properties' names."""

    def __init__(self, model: ifcopenshell.file, kept: set[str]) -> None:
        self.kept = kept
        self.contained = {element.id(): rel.RelatingStructure
                          for rel in model.by_type("IfcRelContainedInSpatialStructure")
                          for element in rel.RelatedElements}
        self.parents: dict[int, str | None] = {}  # structure's id -> what it resolves to

    def parent_of(self, product: ifcopenshell.entity_instance) -> str | None:
        structure = self.contained.get(product.id())
        if structure is None or is_a(product, "IfcSpatialElement") \
                or is_a(product, "IfcSpatialStructureElement"):
            return spatial_parent(product, self.kept)  # aggregated, nested, spatial
        key = structure.id()
        if key not in self.parents:
            global_id = structure.GlobalId
            spatial = is_a(structure, "IfcSpatialStructureElement") \
                or is_a(structure, "IfcSpatialElement")
            self.parents[key] = str(global_id) if spatial and global_id in self.kept \
                else spatial_parent(structure, self.kept)
        return self.parents[key]


def _check_sensors(contents: ModelContents) -> None:
    seen: set[str] = set()
    for sensor in contents.sensors:
        if sensor.id in seen:
            raise ModelImportError(f"sensor id {sensor.id!r} is used by two elements",
                                   "broken_ifc")
        seen.add(sensor.id)
