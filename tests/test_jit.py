"""Compiled code is cached per version of the whole source, not per file."""

from __future__ import annotations

from pathlib import Path

import numba

from twinsync.jit import cache_folder


def test_a_change_to_any_module_of_the_package_moves_the_cache(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "health").mkdir(parents=True)
    (package / "health" / "kernel.py").write_text("def fold(): return helper()\n")
    (package / "health" / "robust.py").write_text("def helper(): return 1\n")
    before = cache_folder(package)
    assert cache_folder(package) == before  # the same source, the same folder
    (package / "health" / "robust.py").write_text("def helper(): return 2\n")
    assert cache_folder(package) != before  # a helper changed, not the kernel's own file


def test_the_compiled_code_of_this_source_goes_to_its_own_folder() -> None:
    assert str(cache_folder()) == numba.config.CACHE_DIR
