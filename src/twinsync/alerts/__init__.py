"""Alarms with a lifecycle (raised, acknowledged, cleared), raised by rules over the twin."""

from .alarms import SEVERITIES, Alarm, AlarmBook

__all__ = ["SEVERITIES", "Alarm", "AlarmBook"]
