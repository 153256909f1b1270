"""The replay's sample data set is what its docstring says: every sensor every interval,
rows in arrival order, readings through a gateway arriving together."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from twinsync.bench.replay_data import write
from twinsync.health.replay import Arrival, arrivals, read_readings


def test_the_sample_set_has_every_reading_in_arrival_order(tmp_path: Path) -> None:
    count = write(tmp_path, days=0.25, sensors=8, interval=300.0, gateways=2)
    assert count == 72 * 8
    with (tmp_path / "readings.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == count
    received = np.array([float(r["received_at"]) for r in rows])
    taken = np.array([float(r["time"]) for r in rows])
    assert (np.diff(received) >= 0).all() and (received > taken).all()
    with (tmp_path / "sensors.csv").open() as file:
        assert len(list(csv.DictReader(file))) == 8
    batches = [a for a in arrivals(read_readings(tmp_path / "readings.csv"))
               if isinstance(a, Arrival)]
    # Two gateways, each forwarding its four sensors once an interval (now and then a
    # sending straddles a second, and the second splits it).
    sizes = [len(a.incoming.readings) for a in batches]
    assert max(sizes) == 4 and sum(sizes) == count
    assert np.mean(sizes) > 3


def test_readings_arriving_alone_make_a_batch_each(tmp_path: Path) -> None:
    write(tmp_path, days=0.1, sensors=4, arrival="direct")
    batches = [a for a in arrivals(read_readings(tmp_path / "readings.csv"))
               if isinstance(a, Arrival)]
    assert sum(len(a.incoming.readings) for a in batches) == 28 * 4
    assert len(batches) > 0.9 * 28 * 4
