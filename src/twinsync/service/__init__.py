"""The running twin: operations, the reading path, subscriptions and connectors."""

from .hub import ALL, Hub, Resync, Subscriber
from .twin_service import IngestResult, TwinService

__all__ = ["ALL", "Hub", "IngestResult", "Resync", "Subscriber", "TwinService"]
