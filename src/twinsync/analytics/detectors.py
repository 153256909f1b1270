"""The anomaly detectors by name, each made with its default settings."""

from __future__ import annotations

from collections.abc import Callable

from .novelty import NoveltyDetector
from .streaming import StreamingDetector
from .zscore import ZScoreDetector

__all__ = ["DETECTORS"]

DETECTORS: dict[str, Callable[[], StreamingDetector]] = {
    "novelty": NoveltyDetector,
    "zscore": ZScoreDetector,
}
