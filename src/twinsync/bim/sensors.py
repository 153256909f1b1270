"""IfcSensor elements as twinsync sensors, and the element each one is bound to.

A sensor's id, kind, unit, interval and bound property come from the ``Pset_TwinsyncSensor``
property set when the model has one, otherwise from the sensor's predefined type. Its host
is, in order of precedence: the element the property set names (``Host``: a GlobalId), the
product it is assigned to (IfcRelAssignsToProduct), the element it is a part of
(IfcRelAggregates / IfcRelNests), or the space it is contained in.

In IFC2X3 there is no IfcSensor occurrence: a sensor is an IfcDistributionControlElement
typed by an IfcSensorType.
"""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.util.element

from ..errors import UnitError
from ..model import Binding, Sensor
from ..units import canonical
from .ifc import class_of, is_a

SENSOR_PSET = "Pset_TwinsyncSensor"

# Predefined type -> (kind, unit, property it usually feeds).
_BY_PREDEFINED_TYPE = {
    "TEMPERATURESENSOR": ("temperature", "degC", "temperature"),
    "HUMIDITYSENSOR": ("humidity", "percent", "relative_humidity"),
    "STRAINSENSOR": ("strain", "microstrain", "strain"),
    "CO2SENSOR": ("co2", "ppm", "co2"),
    "PRESSURESENSOR": ("pressure", "Pa", "pressure"),
    "MOISTURESENSOR": ("moisture", "percent", "moisture"),
    "LIGHTSENSOR": ("illuminance", "lux", "illuminance"),
    "FLOWSENSOR": ("flow", "m**3/s", "flow"),
}
# A temperature in a room is its air's; in a slab, wall or column it is the concrete core's.
_TEMPERATURE_PROPERTY = {"IfcSpace": "air_temperature"}


def is_sensor(product: ifcopenshell.entity_instance, psets: dict[str, dict[str, Any]]) -> bool:
    if is_a(product, "IfcSensor") or SENSOR_PSET in psets:
        return True
    element_type = ifcopenshell.util.element.get_type(product)
    return element_type is not None and is_a(element_type, "IfcSensorType")


def read_sensor(
    product: ifcopenshell.entity_instance,
    psets: dict[str, dict[str, Any]],
    kept: set[str],
) -> tuple[Sensor, Binding | None] | None:
    """The sensor an element is, with its binding when the model names a host; else None.

    ``kept`` holds the GlobalIds being imported: a host must be one of them.
    """
    if not is_sensor(product, psets):
        return None
    pset = psets.get(SENSOR_PSET, {})
    predefined = _predefined_type(product)
    kind, unit, default_property = _BY_PREDEFINED_TYPE.get(
        predefined, (predefined.lower().removesuffix("sensor") or "generic", "", ""))
    kind = str(pset.get("Kind") or kind)
    declared_unit = str(pset.get("Unit") or unit)
    meta: dict[str, Any] = {"global_id": product.GlobalId, "name": product.Name or ""}
    try:
        unit = canonical(declared_unit)
    except UnitError:
        # A unit pint does not know must not block the import; readings must name theirs.
        unit = ""
        meta["declared_unit"] = declared_unit
    sensor = Sensor(
        id=str(pset.get("SensorId") or product.GlobalId),
        kind=kind,
        unit=unit,
        expected_interval=_number(pset.get("ExpectedInterval")),
        meta=meta,
    )
    host, how = _host(product, pset, kept)
    if host is None:
        return sensor, None
    meta["host"], meta["bound_by"] = host.GlobalId, how
    prop = pset.get("BoundProperty") or (
        _TEMPERATURE_PROPERTY.get(class_of(host), "core_temperature")
        if kind == "temperature" else default_property or kind)
    return sensor, Binding(sensor.id, str(host.GlobalId), str(prop))


def _predefined_type(product: ifcopenshell.entity_instance) -> str:
    for source in (product, ifcopenshell.util.element.get_type(product)):
        if source is None:
            continue
        value = getattr(source, "PredefinedType", None)
        if value == "USERDEFINED":
            value = getattr(source, "ObjectType", None) or getattr(source, "ElementType", None)
        if value and value != "NOTDEFINED":
            return str(value).upper()
    return ""


def _host(
    product: ifcopenshell.entity_instance, pset: dict[str, Any], kept: set[str],
) -> tuple[Any, str] | tuple[None, None]:
    named = pset.get("Host")
    if named and named in kept:
        return product.file.by_guid(named), "pset"
    for rel in getattr(product, "HasAssignments", None) or ():
        if is_a(rel, "IfcRelAssignsToProduct") and rel.RelatingProduct.GlobalId in kept:
            return rel.RelatingProduct, "assignment"
    for rel in (getattr(product, "Decomposes", None) or ()) + (
            getattr(product, "Nests", None) or ()):
        whole = rel.RelatingObject
        if is_a(whole, "IfcElement") and whole.GlobalId in kept:
            return whole, "aggregation"
    container = ifcopenshell.util.element.get_container(product, should_get_direct=True)
    if container is not None and is_a(container, "IfcSpace") and container.GlobalId in kept:
        return container, "containment"
    return None, None


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
