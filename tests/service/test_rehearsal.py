"""A starting twin rehearses its reading path, so that its first live batches compile
nothing and wait for nothing (``service/rehearsal.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from twinsync.service.rehearsal import rehearse

START = Path(__file__).with_name("rehearsed_start.py")


@pytest.mark.skipif(bool(numba.config.DISABLE_JIT),  # type: ignore[attr-defined]
                    reason="nothing is compiled with NUMBA_DISABLE_JIT=1")
def test_after_the_rehearsal_the_demos_first_batches_compile_nothing() -> None:
    # A process of its own: in this one, earlier tests have compiled everything already.
    done = subprocess.run([sys.executable, str(START), "rehearsed", "2"], capture_output=True,
                          text=True, timeout=300, check=True)
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["batches"] >= 5
    assert outcome["compiled_after"] == []


async def test_the_rehearsal_leaves_nothing_behind_and_runs_with_every_model_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert await rehearse(anomaly_detection=False, twin_models=False, zone_models=False) > 0
    assert await rehearse(anomaly_detection=True, twin_models=True, zone_models=True) > 0
    assert list(tmp_path.iterdir()) == []
