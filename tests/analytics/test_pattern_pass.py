"""The pattern detectors share one compiled pass, and a later process finds it in the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from twinsync.analytics.novelty import Knobs
from twinsync.analytics.pattern_pass import register_step

_RUN = """
import json, numpy as np
from twinsync.analytics.novelty import NoveltyDetector
from twinsync.analytics.pattern_pass import learn_pass
from twinsync.analytics.surprise import SurpriseDetector
times = 1.7e9 + np.arange(400) * 900.0
values = np.sin(np.arange(400) / 7.0)
for detector in (NoveltyDetector(warmup=20, settle=5), SurpriseDetector(warmup=20, settle=5)):
    detector.learn_many(np.zeros(400, dtype=np.int64), {"time": times, "value": values})
print(json.dumps({"signatures": len(learn_pass.signatures),
                  "hits": sum(learn_pass.stats.cache_hits.values())}))
"""


def test_both_detectors_run_one_compiled_pass_that_a_later_process_finds_in_the_cache(
    tmp_path: Path,
) -> None:
    if os.environ.get("NUMBA_DISABLE_JIT") == "1":
        pytest.skip("nothing is compiled")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        json.loads(subprocess.run([sys.executable, "-c", _RUN], env=env, capture_output=True,
                                  text=True, timeout=600, check=True).stdout)
        for _ in range(2)
    ]
    assert runs[0] == {"signatures": 2, "hits": 0}  # one pass, typed for each detector
    assert runs[1] == {"signatures": 2, "hits": 2}  # both loaded, not compiled again


def test_a_second_step_for_the_same_knobs_is_refused() -> None:
    with pytest.raises(ValueError, match="Knobs"):
        register_step(Knobs, lambda s, k, time, value: 0.0)


