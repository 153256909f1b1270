"""``bench mqtt`` against the real Mosquitto: every reading goes the whole path and is counted."""

from __future__ import annotations

import json
import subprocess
import sys


def test_a_short_run_commits_every_reading_and_counts_both_processes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twinsync", "bench", "mqtt", "--messages", "3000", "--packs",
         "30", "--json"], capture_output=True, text=True, timeout=120, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["bench"] == "mqtt" and figures["qos"] == 1
    # Nothing missing, lost or stored twice on any of the three runs.
    assert figures["raw_missing"] == 0
    assert figures["one_per_message_missing"] == 0 and figures["senml_100_missing"] == 0
    assert figures["one_per_message_lost"] == 0 and figures["senml_100_lost"] == 0
    assert figures["one_per_message_duplicates"] == 0
    assert figures["raw_broker_msgs_per_s"] > 0
    assert figures["one_per_message_readings_per_s"] > 0
    assert figures["senml_100_readings_per_s"] > 0
    assert figures["one_per_message_ratio"] == figures["per_round"]["ratio"][0]
    # The MQTT client runs in a process of its own: its CPU is part of the cost per reading.
    by_thread = figures["one_per_message_cpu_us_by_thread"]
    assert by_thread["client process"] > 0
    assert figures["one_per_message_cpu_us"] >= by_thread["client process"]
    assert len(figures["load_average_1min"]["before_each_round"]) == 1
