"""``twinsync audit verify`` says whether the log's chain holds and names the first broken
entry; ``--expect`` finds a chain rewritten since a head was kept; ``twinsync audit prune``
cuts the log to its retention and leaves it verifiable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from twinsync.store import open_store
from twinsync.store.audit import COMMAND, AuditEntry

DAY = 86_400.0


def twinsync(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "twinsync", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_verify_passes_names_a_changed_entry_and_checks_a_kept_head(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    for name in ("gateway", "tablet", "screen"):
        assert twinsync("token", "create", name, "--role", "viewer", "--store", store,
                        cwd=tmp_path).returncode == 0
    good = twinsync("audit", "verify", "--store", store, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("the audit chain holds: 3 entries after entry 0; head 3:")
    head = good.stdout.split("head ", 1)[1].strip()
    assert twinsync("audit", "verify", "--expect", head, "--store", store,
                    cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "twin.sqlite") as c:
        c.execute("UPDATE audit SET actor = 'nobody' WHERE id = 2")
    bad = twinsync("audit", "verify", "--store", store, "--json", cwd=tmp_path)
    assert bad.returncode == 1
    verdict = json.loads(bad.stdout)
    assert verdict["broken_at"] == 2 and verdict["checked"] == 1
    assert verdict["problem"] == "entry 2 was changed after it was written"
    wrong = twinsync("audit", "verify", "--expect", "3:abc", "--store", store, cwd=tmp_path)
    assert wrong.returncode == 2 and "expect is <entry id>:" in wrong.stderr


def test_prune_keeps_the_days_asked_for_and_the_chain_verifiable(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'twin.sqlite'}"
    now = time.time()
    twin = open_store(store)
    twin.add_audit([AuditEntry("update_element", f"element:E{n}", COMMAND, now - days * DAY)
                    for n, days in enumerate((90, 60, 10, 1))])
    twin.close()
    unsaid = twinsync("audit", "prune", "--store", store, cwd=tmp_path)
    assert unsaid.returncode == 2 and "how many days to keep" in unsaid.stderr
    pruned = twinsync("audit", "prune", "--keep-days", "30", "--store", store, "--json",
                      cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["removed"] == 2
    verdict = json.loads(twinsync("audit", "verify", "--store", store, "--json",
                                  cwd=tmp_path).stdout)
    assert verdict["ok"] and verdict["anchor_id"] == 2 and verdict["checked"] == 3
    (tmp_path / "twinsync.toml").write_text("audit_keep_days = 5\n")
    assert twinsync("audit", "prune", "--store", store, cwd=tmp_path).stdout.startswith(
        "removed 1 entries")
