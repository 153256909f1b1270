"""A labelled construction-site evaluation set for sensor health, and its scorer.

``generate(part, seed, days, out_dir)`` writes a site's sensors, readings (in the replay's
format) and the faults injected into them; ``score(labels, states, sensors, ...)`` scores
the health states a replay wrote against those labels. The set has two parts drawn from
different parameter sets (``params.TUNE`` and ``params.HOLDOUT``): thresholds are chosen on
``tune`` only. See docs/HEALTH.md, "Evaluation set".
"""

from .generate import Summary, generate
from .params import HOLDOUT, PARTS, TUNE, SiteParams

__all__ = ["HOLDOUT", "PARTS", "TUNE", "SiteParams", "Summary", "generate"]
