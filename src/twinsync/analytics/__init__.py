"""Analytics over the twin's readings: streaming anomaly detection, its events and alarms,
and the benchmark score it is judged by."""

from __future__ import annotations

from .detectors import DETECTORS
from .monitor import AnomalyMonitor, AnomalyUpdate, Expected
from .nab import PROFILES, CorpusScore, Profile, Series, score_corpus
from .novelty import NoveltyDetector
from .zscore import ZScoreDetector

__all__ = [
    "DETECTORS",
    "PROFILES",
    "AnomalyMonitor",
    "AnomalyUpdate",
    "CorpusScore",
    "Expected",
    "NoveltyDetector",
    "Profile",
    "Series",
    "ZScoreDetector",
    "score_corpus",
]
