"""Analytics over the twin's readings: streaming anomaly detection and its benchmark score."""

from __future__ import annotations

from .nab import PROFILES, CorpusScore, Profile, Series, score_corpus

__all__ = ["PROFILES", "CorpusScore", "Profile", "Series", "score_corpus"]
