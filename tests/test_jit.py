"""Compiled code is cached per version of the whole source, not per file; a compiled
function called past numba's typing still runs the machine code of its arguments' types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np
import pytest

from twinsync.jit import Direct, cache_folder


def test_a_change_to_any_module_of_the_package_moves_the_cache(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "health").mkdir(parents=True)
    (package / "health" / "kernel.py").write_text("def fold(): return helper()\n")
    (package / "health" / "robust.py").write_text("def helper(): return 1\n")
    before = cache_folder(package)
    assert cache_folder(package) == before  # the same source, the same folder
    (package / "health" / "robust.py").write_text("def helper(): return 2\n")
    assert cache_folder(package) != before  # a helper changed, not the kernel's own file


class Columns(NamedTuple):
    scale: Any
    shift: Any


@numba.njit
def _apply(columns: Columns, values: Any, out: Any) -> int:
    for i in range(values.shape[0]):
        out[i] = values[i] * columns.scale[i] + columns.shift[i]
    return int(values.shape[0])


def test_a_direct_call_gives_what_the_dispatcher_gives_and_follows_a_change_of_type() -> None:
    if numba.config.DISABLE_JIT:
        pytest.skip("nothing is compiled with NUMBA_DISABLE_JIT=1")
    direct = Direct(_apply)
    values = np.arange(4.0)
    floats = Columns(np.full(4, 2.0), np.ones(4))
    out = np.zeros(4)
    assert direct.call((floats,), floats, values, out) == 4
    assert out.tolist() == [1.0, 3.0, 5.0, 7.0]
    out[:] = 0.0
    assert direct.call((floats,), floats, values, out) == 4  # now past the typing
    assert out.tolist() == [1.0, 3.0, 5.0, 7.0]
    # Columns of another type (integers, one of them strided): another machine code,
    # chosen by the dispatcher, not the overload armed for floats.
    strided = np.arange(8, dtype=np.int64)[::2]
    integers = Columns(np.full(4, 3, dtype=np.int64), strided)
    assert direct.call((integers,), integers, values, out) == 4
    assert out.tolist() == [0.0, 5.0, 10.0, 15.0]
    assert len(_apply.overloads) == 2
    out[:] = 0.0
    assert direct.call((floats,), floats, values, out) == 4
    assert out.tolist() == [1.0, 3.0, 5.0, 7.0]


def test_the_compiled_code_of_this_source_goes_to_its_own_folder() -> None:
    assert str(cache_folder()) == numba.config.CACHE_DIR


_SERVICE_RUN = """
import asyncio, json, sys, time
from twinsync.demo import demo_project
from twinsync.pipeline import IncomingBatch, RawReading
from twinsync.service import TwinService

async def main():
    service = TwinService.open(sys.argv[1])
    try:
        project = demo_project()
        await service.import_project(project.elements, project.sensors, project.bindings)
        now = time.time()
        readings = [RawReading("L1-slab-t1", 30.0 + 0.01 * (k % 7), now - 600 + k, None, k)
                    for k in range(300)]
        readings.append(RawReading("L1-slab-t1", 80.0, now - 300, None, 300))  # a spike
        result = await service.ingest(IncomingBatch(readings, "test", now, "test"))
        shown = service.sensor_snapshot("L1-slab-t1")
        binding = shown["binding"]
        fused = service.fused_value(binding["element_id"], binding["property"])
        print(json.dumps({"accepted": result.accepted, "value": shown["value"],
                          "state": shown["health"]["state"], "count": shown["count"],
                          "std": shown["std"], "shown": fused["value"],
                          "confidence": fused["confidence"]}))
    finally:
        await service.aclose()

asyncio.run(main())
"""


def _service_run(tmp_path: Path, name: str, disable_jit: bool) -> dict[str, object]:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1" if disable_jit else "0"}
    done = subprocess.run([sys.executable, "-c", _SERVICE_RUN,
                           f"sqlite:///{tmp_path / name}.sqlite"],
                          env=env, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_service_runs_without_the_compiler_and_judges_as_compiled(tmp_path: Path) -> None:
    plain = _service_run(tmp_path, "plain", disable_jit=True)
    compiled = _service_run(tmp_path, "compiled", disable_jit=False)
    assert plain == compiled
    assert plain["accepted"] == 301 and plain["count"] == 301
    assert plain["shown"] == 80.0 and plain["confidence"] < 0.5  # judged, and not believed
