"""The anomaly detectors by name, each made with its default settings."""

from __future__ import annotations

from collections.abc import Callable

from .novelty import NoveltyDetector
from .streaming import StreamingDetector

__all__ = ["DETECTORS"]

DETECTORS: dict[str, Callable[[], StreamingDetector]] = {
    "novelty": NoveltyDetector,
}
