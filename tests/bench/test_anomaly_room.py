"""``bench anomaly-room``: a calm room read often tells nothing in its first days, and a
jump planted after them is found at once."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_room_read_every_ten_seconds_is_calm_for_days_and_its_jump_is_found() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twinsync", "bench", "anomaly-room", "--every", "10,60",
         "--days", "3", "--json"],
        capture_output=True, text=True, timeout=300, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert [room["every_seconds"] for room in figures["rooms"]] == [10.0, 60.0]
    for room in figures["rooms"]:
        assert room["readings"] > 3 * 86_400 / room["every_seconds"]
        assert (room["calm_events"], room["calm_alarms"]) == (0, 0), room
        assert room["first_event_hours"] is None
        assert room["jump_found_after_seconds"] == 0.0 and room["jump_score"] >= 0.6
