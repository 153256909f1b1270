"""The twin's model: elements, sensors, bindings, events, and the operations that change them."""

from .element import DEFAULT_CONFIDENCE, Element, PropertyValue, Source, Status
from .events import Event
from .sensor import Binding, Sensor, Transform
from .twin import SPATIAL_TYPES, Twin

__all__ = [
    "DEFAULT_CONFIDENCE",
    "SPATIAL_TYPES",
    "Binding",
    "Element",
    "Event",
    "PropertyValue",
    "Sensor",
    "Source",
    "Status",
    "Transform",
    "Twin",
]
