"""``twinsync schedule import FILE``: into a running twin with ``--url`` (and a real server
process), or straight into a store; a second version keeps what the twin added; a bad file
or a missing token fails with a clear message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.schedule.plan_files import tower_xer
from tests.server import Server


def twinsync(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"TWINSYNC_TOKEN": token} if token else {}
    return subprocess.run([sys.executable, "-m", "twinsync", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})


def test_a_schedule_imported_into_a_running_twin_is_served_at_once(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    first, second = tmp_path / "tower.xer", tmp_path / "tower-2.xer"
    first.write_bytes(tower_xer())
    second.write_bytes(tower_xer(2))
    server = Server("serve", "--store", store, cwd=tmp_path)
    server.start()
    try:
        done = twinsync("schedule", "import", str(first), "--url", server.url, "--json",
                        token=server.token)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["version"] == 1
        with server.client() as client:
            reported = client.post("/api/schedule/activities/A100/progress",
                                   json={"percent_complete": 40, "date": "2026-03-04 12:00"})
            assert reported.status_code == 201, reported.text
        again = twinsync("schedule", "import", str(second), "--url", server.url,
                         token=server.token)
        assert again.returncode == 0, again.stderr
        assert "as version 2" in again.stdout and "kept progress of 1" in again.stdout
        assert "1 added, 1 removed" in again.stdout and "M900" not in again.stdout
        with server.client() as client:
            schedule = client.get("/api/schedule", params={"as_of": "2026-03-04 12:00"}).json()
        assert schedule["version"] == 2
        assert [a["id"] for a in schedule["activities"]] == ["A100", "A110", "A120", "A130"]
        assert schedule["activities"][0]["progress"]["percent_complete"] == 40.0
        refused = twinsync("schedule", "import", str(first), "--url", server.url,
                           "--token", "not-a-token")
        assert refused.returncode == 2 and "unauthenticated" in refused.stderr
    finally:
        server.stop()


def test_a_schedule_imports_straight_into_a_store_and_a_bad_file_names_its_line(
        tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    good, bad = tmp_path / "tower.xer", tmp_path / "bad.xer"
    good.write_bytes(tower_xer())
    bad.write_bytes(tower_xer().replace(b"PR_FS", b"PR_XX", 1))
    done = twinsync("schedule", "import", str(good), "--store", store)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("imported tower.xer as version 1 of the schedule (TOWER")
    failed = twinsync("schedule", "import", str(bad), "--store", store)
    assert failed.returncode == 2
    assert "unknown relationship type 'PR_XX'" in failed.stderr and "line " in failed.stderr
    missing = twinsync("schedule", "import", str(tmp_path / "none.xer"), "--store", store)
    assert missing.returncode == 2 and "no file" in missing.stderr
