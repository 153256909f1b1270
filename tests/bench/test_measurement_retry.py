"""``twinsync bench measurement-retry`` runs end to end: every retry of a measurement on an
element with a history is answered with the first sending's event, and is timed."""

from __future__ import annotations

import argparse

from twinsync.bench import measurement_retry


def test_the_retry_bench_answers_every_retry_with_the_first_event_and_times_it() -> None:
    parser = argparse.ArgumentParser()
    measurement_retry.add_arguments(parser)
    figures = measurement_retry.run(parser.parse_args(["--history", "2500", "--retries", "3"]))
    assert figures["answered_with_first"] == 3
    assert 0 < figures["retry_ms_best"] <= figures["retry_ms_median"]
