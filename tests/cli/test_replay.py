"""``twinsync replay`` back-fills history from long and wide CSV files."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.server import Server


def replay(*args: str, cwd: Path) -> dict[str, object]:
    result = subprocess.run([sys.executable, "-m", "twinsync", "replay", *args, "--json"],
                            capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server("demo", "--store", f"sqlite:///{tmp_path / 'twin.sqlite'}", cwd=tmp_path)
    running.start()
    yield running
    running.stop()


def test_a_long_csv_is_replayed_into_a_running_twin_and_bad_rows_are_kept(
        server: Server, tmp_path: Path) -> None:
    api = server.client()
    sensor = api.get("/api/sensors").json()["sensors"][0]["id"]
    lines = ["timestamp,sensor,value"]
    lines += [f"2026-03-01T00:{m:02d}:00Z,{sensor},{20 + m / 10}" for m in range(30)]
    lines += ["2026-03-01T00:31:00Z,no-such-sensor,1.0", "2026-03-01T00:32:00Z,"
              f"{sensor},warm"]
    csv = tmp_path / "history.csv"
    csv.write_text("\n".join(lines) + "\n")
    result = replay(str(csv), "--url", server.url, "--token", server.token, cwd=tmp_path)
    assert result["accepted"] == 30
    history = api.get(f"/api/sensors/{sensor}/readings",
                      params={"start": "2026-03-01T00:00:00Z",
                              "end": "2026-03-01T01:00:00Z"}).json()
    assert len(history["value"]) == 30
    reasons = {d["reason"] for d in api.get("/api/dead-letters").json()["dead_letters"]}
    assert "unknown_sensor" in reasons
    # The row the CSV reader could not read never reached the server: it is kept beside
    # the file, with its line.
    [kept] = (tmp_path / "history.dead-letters.jsonl").read_text().splitlines()
    assert "warm" in kept


def test_a_wide_csv_is_replayed_straight_into_a_store(tmp_path: Path) -> None:
    from twinsync.bim import generate_building

    model = generate_building(tmp_path / "b.ifc", storeys=1, bays_x=2, bays_y=2)
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    subprocess.run([sys.executable, "-m", "twinsync", "import", "ifc", str(model.path),
                    "--store", store], check=True, capture_output=True, timeout=300)
    csv = tmp_path / "wide.csv"
    csv.write_text("time,L00-SLAB-T1,L00-R00-T\n"
                   "2026-03-01T00:00:00Z,14.0,19.0\n2026-03-01T00:15:00Z,15.5,19.5\n")
    result = replay(str(csv), "--store", store, "--layout", "wide", cwd=tmp_path)
    assert result["accepted"] == 4 and result["rejected"] == 0
