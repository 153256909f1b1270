"""Storage behind one small interface, chosen by URL (``sqlite:///…``, ``postgresql://…``)."""

from .base import Buckets, History, SensorAggregates, Store, open_store

__all__ = ["Buckets", "History", "SensorAggregates", "Store", "open_store"]
