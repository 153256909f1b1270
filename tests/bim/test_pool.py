"""A kernel that crashes or hangs costs its element only: the rest are drawn, it is reported.

The faults are real: ``TWINSYNC_GEOMETRY_FAULT`` makes the worker process kill itself with
SIGSEGV, or never return, when it reaches the named element, as a kernel bug does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from twinsync.bim import GeneratedModel, export_glb, generate_shapes, glb_node_names
from twinsync.bim.pool import Failed, GeometryPool, Job

CASES = ["faceted_brep", "mapped_brep", "polygonal_face_set", "clipped_wall"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> GeneratedModel:
    return generate_shapes(tmp_path_factory.mktemp("pool") / "small.ifc", cases=CASES)


def test_a_crash_in_both_kernels_loses_that_element_alone_and_says_why(
        small: GeneratedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = small.ids["mapped_brep"]
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"segv:{victim}")
    info = export_glb(small.path, tmp_path / "m.glb")
    assert set(glb_node_names(info.path)) == set(small.ids.values()) - {victim}
    assert [(m["id"], m["reason"]) for m in info.missing] == [(victim, "crashed")]
    assert "SIGSEGV" in info.missing[0]["detail"]
    assert [(r["id"], r["kernel"], r["reason"]) for r in info.retried] == [
        (victim, "manifold", "crashed")]


def test_an_element_that_crashes_the_fast_kernel_is_drawn_by_opencascade(
        small: GeneratedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = small.ids["faceted_brep"]
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"segv:{victim}@manifold")
    info = export_glb(small.path, tmp_path / "m.glb")
    assert set(info.node_names) == set(small.ids.values())
    assert info.missing == []
    assert info.retried[0]["id"] == victim
    # The wall went to OpenCASCADE by choice, the B-rep after the crash; two on manifold.
    assert info.by_kernel == {"manifold": 2, "opencascade": 2}


def test_an_element_that_hangs_is_given_up_after_the_timeout_and_retried(
        small: GeneratedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = small.ids["polygonal_face_set"]
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"hang:{victim}@manifold")
    info = export_glb(small.path, tmp_path / "m.glb", timeout=1.0)
    assert set(info.node_names) == set(small.ids.values())
    assert [(r["id"], r["reason"]) for r in info.retried] == [(victim, "timed_out")]


def test_the_pool_blames_the_crash_on_the_element_in_hand_and_finishes_the_batch(
        small: GeneratedModel, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = small.ids["mapped_brep"]
    monkeypatch.setenv("TWINSYNC_GEOMETRY_FAULT", f"segv:{victim}")
    jobs = [Job(global_id, "opencascade") for global_id in small.ids.values()] * 3
    with GeometryPool(str(small.path), workers=1) as pool:
        outcomes = list(pool.run(jobs))
    assert len(outcomes) == len(jobs)
    failed = [job.global_id for job, outcome in outcomes if isinstance(outcome, Failed)]
    assert failed == [victim] * 3
