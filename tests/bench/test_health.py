"""``bench health --false-alarms`` says which alarms were false and which faults were missed."""

from __future__ import annotations

from twinsync.bench.health import DAY, START, Fault, _explain, _score


def test_a_false_alarm_is_listed_with_the_faults_of_its_group_and_a_missed_fault_too() -> None:
    faults = [Fault(1, "drift", START + 3 * DAY, START + 4 * DAY, 3.0),
              Fault(4, "spike", START + 5 * DAY, START + 5 * DAY, 2.0)]
    alarms = [(1, "drift", START + 3.5 * DAY),   # detects the drift
              (2, "drift", START + 3.6 * DAY),   # its peer blamed: false
              (5, "noisy", START + 9.0 * DAY)]   # a healthy sensor: false
    lines = _explain(faults, alarms, ["a", "peer blamed", "noise 2x"], group=3)
    assert len(lines) == 3
    assert lines[0].startswith("false drift") and "peer blamed" in lines[0]
    assert "[1/drift/+14.4h/24.0h]" in lines[0]
    assert lines[1].startswith("false noise") and lines[1].endswith("[]")
    assert lines[2].startswith("missed spike") and "sensor     4" in lines[2]
    # The listing agrees with the score: two false alarms, one fault missed.
    score = _score(faults, alarms, 6, 10.0)["kinds"]
    assert score["drift"]["false_alarms"] + score["noise"]["false_alarms"] == 2
    assert score["spike"]["detected"] == 0
