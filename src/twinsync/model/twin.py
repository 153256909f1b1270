"""The twin: elements, sensors and bindings, changed only through named operations.

Every operation checks its input before it changes anything (the rules are in
``validate``: ids, lengths, finite numbers, JSON-safe values, units that exist), then
applies the change and returns the ``Event`` that records it; the caller (the service)
commits events to the store and pushes them to subscribers. REST routes, WebSocket
commands and CLI commands all call these operations and hold no logic of their own.

>>> twin = Twin()
>>> _ = twin.add_element(Element(id="slab-1", type="IfcSlab"))
>>> _ = twin.add_sensor(Sensor(id="t-1", kind="temperature", unit="degC"))
>>> _ = twin.bind_sensor(Binding("t-1", "slab-1", "core_temperature"))
>>> twin.update_status("slab-1", Status.IN_PROGRESS, source=Source.FIELD, time=0.0).kind
'status_changed'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import Conflict, InvalidInput, NotFound
from ..units import converter
from . import validate
from .element import DEFAULT_CONFIDENCE, Element, PropertyValue, Source, Status
from .events import Event
from .sensor import Binding, Sensor

SPATIAL_TYPES = frozenset({"IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcSpace", "IfcProject"})


class Twin:
    """The in-memory twin. Pure: no I/O."""

    def __init__(self) -> None:
        self.elements: dict[str, Element] = {}
        self.sensors: dict[str, Sensor] = {}
        self.bindings: dict[str, Binding] = {}
        self._sensors_of: dict[str, list[str]] = {}
        self._storey_cache: dict[str, str | None] = {}

    # -- queries -----------------------------------------------------------------------

    def element(self, element_id: str) -> Element:
        try:
            return self.elements[element_id]
        except KeyError:
            raise NotFound(f"no element {validate.shown(element_id)}") from None

    def sensor(self, sensor_id: str) -> Sensor:
        try:
            return self.sensors[sensor_id]
        except KeyError:
            raise NotFound(f"no sensor {validate.shown(sensor_id)}") from None

    def sensors_of(self, element_id: str) -> list[str]:
        """Ids of the sensors bound to an element's properties."""
        return list(self._sensors_of.get(element_id, ()))

    def live_binding(self, sensor_id: str) -> Binding | None:
        """The sensor's binding while its element is in the model; None when it is unbound
        or its element is archived. An archived element's bindings are kept, not removed,
        so that they work again when a later model revision restores the element."""
        binding = self.bindings.get(sensor_id)
        if binding is None:
            return None
        element = self.elements.get(binding.element_id)
        return binding if element is not None and not element.archived else None

    def binding_state(self, sensor_id: str) -> str:
        """``bound``, ``unbound``, or ``element_archived`` (bound to an archived element:
        its readings are kept as the sensor's, but feed no property)."""
        if sensor_id not in self.bindings:
            return "unbound"
        return "bound" if self.live_binding(sensor_id) is not None else "element_archived"

    def storey_of(self, element_id: str) -> str | None:
        """The id of the storey that contains an element (itself if it is one)."""
        if element_id in self._storey_cache:
            return self._storey_cache[element_id]
        current: str | None = element_id
        seen: set[str] = set()
        storey = None
        while current is not None and current not in seen:
            seen.add(current)
            element = self.elements.get(current)
            if element is None:
                break
            if element.type == "IfcBuildingStorey":
                storey = element.id
                break
            current = element.parent
        self._storey_cache[element_id] = storey
        return storey

    def status_summary(self) -> dict[str, int]:
        summary = {status.value: 0 for status in Status}
        for element in self.elements.values():
            if not element.archived and element.type not in SPATIAL_TYPES:
                summary[element.status.value] += 1
        return summary

    # -- operations ----------------------------------------------------------------------

    def add_element(self, element: Element, *, time: float = 0.0, source: str = "manual") -> Event:
        element.check()
        time = validate.event_time(time)
        existing = self.elements.get(element.id)
        if existing is not None and not existing.archived:
            raise Conflict(f"element {element.id!r} exists")
        self.elements[element.id] = element
        self._storey_cache.clear()
        return Event("element_added", time, element.id, source, {"element": element.to_dict()})

    def update_element(
        self, element: Element, *, time: float = 0.0, source: str = "manual"
    ) -> Event:
        """Replace an element's identity, place and properties, keeping status and bindings."""
        element.check()
        time = validate.event_time(time)
        current = self.element(element.id)
        kept = {name: pv for name, pv in current.properties.items()
                if pv.source is not Source.BIM and name not in element.properties}
        if len(element.properties) + len(kept) > validate.MAX_PROPERTIES:
            raise InvalidInput(f"element {element.id!r} would have more than "
                               f"{validate.MAX_PROPERTIES} properties", "too_many_properties")
        element.status = current.status
        # Values that came from the field or sensors outlive a new model revision.
        element.properties.update(kept)
        self.elements[element.id] = element
        self._storey_cache.clear()
        return Event("element_changed", time, element.id, source, {"element": element.to_dict()})

    def archive_element(self, element_id: str, *, time: float = 0.0,
                        source: str = "manual") -> Event:
        time = validate.event_time(time)
        element = self.element(element_id)
        element.archived = True
        return Event("element_archived", time, element_id, source, {})

    def update_status(
        self, element_id: str, status: Status | str, *, source: Source | str = Source.MANUAL,
        time: float = 0.0,
    ) -> Event:
        element = self.element(element_id)
        new = validate.choice(status, Status, "status", "bad_status")
        src = validate.choice(source, Source, "source", "bad_source")
        time = validate.event_time(time)
        old = element.status
        element.status = new
        return Event(
            "status_changed", time, element_id, src.value,
            {"status": new.value, "previous": old.value},
        )

    def set_property(
        self, element_id: str, name: str, value: Any, *, unit: str = "",
        source: Source | str = Source.MANUAL, time: float = 0.0, confidence: float | None = None,
    ) -> Event:
        element = self.element(element_id)
        name = validate.property_name(name)
        src = validate.choice(source, Source, "source", "bad_source")
        if confidence is None:
            confidence = DEFAULT_CONFIDENCE[src]
        pv = PropertyValue.checked(value, unit, time, src, confidence, name=name)
        if name not in element.properties and len(element.properties) >= validate.MAX_PROPERTIES:
            raise InvalidInput(f"element {element_id!r} has {validate.MAX_PROPERTIES} "
                               "properties already", "too_many_properties")
        element.properties[name] = pv
        return Event("property_changed", time, element_id, src.value,
                     {"property": name, **pv.to_dict()})

    def add_sensor(self, sensor: Sensor, *, time: float = 0.0) -> Event:
        sensor.check()
        time = validate.event_time(time)
        if sensor.id in self.sensors:
            raise Conflict(f"sensor {sensor.id!r} exists")
        self.sensors[sensor.id] = sensor
        return Event("sensor_added", time, None, "manual", {"sensor": sensor.to_dict()})

    def bind_sensor(self, binding: Binding, *, time: float = 0.0) -> Event:
        binding.check()
        time = validate.event_time(time)
        sensor = self.sensor(binding.sensor_id)
        self.element(binding.element_id)
        if binding.sensor_id in self.bindings:
            raise Conflict(f"sensor {binding.sensor_id!r} is already bound")
        # Fails with a clear UnitError now rather than on every reading later.
        converter(sensor.unit, binding.transform.unit or sensor.unit)
        self.bindings[binding.sensor_id] = binding
        self._sensors_of.setdefault(binding.element_id, []).append(binding.sensor_id)
        return Event("sensor_bound", time, binding.element_id, "manual", binding.to_dict())

    def unbind_sensor(self, sensor_id: str, *, time: float = 0.0) -> Event:
        time = validate.event_time(time)
        binding = self.bindings.pop(sensor_id, None)
        if binding is None:
            raise NotFound(f"sensor {validate.shown(sensor_id)} is not bound")
        self._sensors_of[binding.element_id].remove(sensor_id)
        return Event("sensor_unbound", time, binding.element_id, "manual", binding.to_dict())

    def checkpoint(self) -> tuple[dict[str, Element], dict[str, Sensor], dict[str, Binding]]:
        """A shallow copy of the registries, to undo a batch of additions that failed midway."""
        return dict(self.elements), dict(self.sensors), dict(self.bindings)

    def rollback(self, saved: tuple[dict[str, Element], dict[str, Sensor],
                                    dict[str, Binding]]) -> None:
        self.elements, self.sensors, bindings = (dict(saved[0]), dict(saved[1]), dict(saved[2]))
        self.bindings = {}
        self._sensors_of = {}
        self.load((), (), bindings.values())

    def load(self, elements: Iterable[Element], sensors: Iterable[Sensor],
             bindings: Iterable[Binding]) -> None:
        """Rebuild from stored state (no events: they are already in the store)."""
        for element in elements:
            self.elements[element.id] = element
        for sensor in sensors:
            self.sensors[sensor.id] = sensor
        for binding in bindings:
            self.bindings[binding.sensor_id] = binding
            self._sensors_of.setdefault(binding.element_id, []).append(binding.sensor_id)
        self._storey_cache.clear()
