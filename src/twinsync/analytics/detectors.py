"""The anomaly detectors by name, each made with its default settings."""

from __future__ import annotations

from collections.abc import Callable

from .novelty import NoveltyDetector
from .streaming import StreamingDetector
from .surprise import SurpriseDetector
from .zscore import ZScoreDetector

__all__ = ["DETECTORS"]

DETECTORS: dict[str, Callable[[], StreamingDetector]] = {
    "novelty": NoveltyDetector,
    # The novelty judged by its tail in the sensor's own history of novelty (not yet the
    # live path's: docs/ANOMALY.md, "The surprise").
    "surprise": SurpriseDetector,
    "zscore": ZScoreDetector,
}
