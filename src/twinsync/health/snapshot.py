"""A health monitor's learned state as bytes, and back: what lets it survive a restart.

Baselines take a day or two of readings to learn (noise, offsets to peers, intervals), and a
sensor found stuck or drifting must stay so after a restart rather than be trusted afresh.
``dump`` writes every column of the ``HealthTable`` for the rows in use, keyed by sensor
id, with the table's layout (window, column names, dtypes, shapes) and the parameters that
taught it; ``load`` checks all of that before writing anything, then copies each column
into the rows the same sensors have now.

The format is an uncompressed ``.npz`` (NumPy's zip of ``.npy`` arrays, read with
``allow_pickle=False``, so a tampered file cannot run code) with a JSON header. It goes
through ``HealthTable.column_names()`` and ``column(name)`` only, so it does not depend on
how the table lays its columns out in memory.

>>> monitor = HealthMonitor()
>>> _ = monitor.learn_one(0, 21.5, 900.0)
>>> fresh = HealthMonitor()
>>> load(fresh, dump(monitor, ["t-1"]), ["t-1"])
1
>>> float(fresh.table.last_value[0])
21.5
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..archive import ArchiveUnreadable, layout, pack, unpack
from ..errors import InvalidInput
from .monitor import HealthMonitor

#: Bumped when the meaning of a saved column changes without its name or type changing.
FORMAT = 4

#: The columns whose meaning changed when the format became N. A snapshot of an older
#: format (written by an earlier twinsync) is taken in part: every column both know, with
#: the same type and shape, whose meaning has not changed since; the rest start afresh
#: (new columns at their fill). So an upgrade keeps what a site's sensors taught health
#: (noise, intervals, repeats, cadence, stuck and clock states) and relearns only what
#: changed; refused outright, a stuck sensor would be trusted afresh after an upgrade.
CHANGED_IN: dict[int, frozenset[str]] = {
    # 2: drift is judged on a regression on the peers' consensus, charted by time.
    2: frozenset({"d_n", "d_mean", "d_var", "drift_level", "drift_var", "drift_calm_since",
                  "drift_start", "ring_level", "ring_offset"}),
    # 3: the drift chart smooths over 6 hours, not 100 minutes, so its level and the spread
    # learned for it mean something else (a spread learned on the 100-minute chart is
    # wider than the 6-hour one's and would blunt it for days); and new columns, the
    # spans a sensor's readings were far off its fit, for its peers' spikes.
    3: frozenset({"drift_level", "drift_var", "drift_size", "chart_n"}),
    # 4: a new column only, the plain difference to the peers smoothed as the drift's size
    # (``checks.drift``), at its fill (0) after an upgrade: no new drift is named for the
    # hours its smoothing takes to catch up, and one named stays named (restarting the
    # chart with it would have ended every named drift at the first reading).
    4: frozenset(),
}


class SnapshotMismatch(InvalidInput):
    """A saved health table that this monitor cannot take (corrupt, or another layout)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "health_snapshot_mismatch")


def dump(monitor: HealthMonitor, sensor_ids: Sequence[str]) -> bytes:
    """The monitor's state for rows ``0 .. rows_in_use``; ``sensor_ids[row]`` names each."""
    table = monitor.table
    used = monitor.rows_in_use
    if len(sensor_ids) < used:
        raise ValueError(f"{len(sensor_ids)} sensor ids for {used} rows in use")
    arrays: dict[str, NDArray[Any]] = {
        name: np.ascontiguousarray(table.column(name)[:used]) for name in table.column_names()}
    header = {
        "format": FORMAT, "window": table.window, "rows": used,
        "ids": [str(s) for s in sensor_ids[:used]], "units": table.units[:used],
        "columns": layout(arrays), "params": dataclasses.asdict(monitor.params),
    }
    return pack(header, arrays)


def load(monitor: HealthMonitor, body: bytes, sensor_ids: Sequence[str]) -> int:
    """Copy a saved state into ``monitor`` for the sensors it knows (``sensor_ids[row]``);
    returns how many sensors were restored. A snapshot of an older format is taken in part
    (``CHANGED_IN``). Raises ``SnapshotMismatch``, having changed nothing, when the body is
    not a snapshot this monitor's table can take."""
    header, arrays = _read(body)
    table = monitor.table
    expected = layout({name: table.column(name)[:0] for name in table.column_names()})
    saved_format = header.get("format")
    if not isinstance(saved_format, int) or not 1 <= saved_format <= FORMAT:
        raise SnapshotMismatch(f"health snapshot format {saved_format!r}, "
                               f"expected 1 to {FORMAT}")
    if header.get("window") != table.window:
        raise SnapshotMismatch(f"health snapshot window {header.get('window')!r}, "
                               f"expected {table.window}")
    if saved_format < FORMAT:
        expected = _still_meant(expected, header.get("columns"), arrays, saved_format)
    elif header.get("columns") != expected:
        saved = set(header.get("columns") or ())
        raise SnapshotMismatch(
            "health snapshot columns differ: missing "
            f"{sorted(set(expected) - saved)}, unknown {sorted(saved - set(expected))}, "
            "or a dtype or shape changed")
    rows = int(header.get("rows", -1))
    ids, units = header.get("ids"), header.get("units")
    if (not isinstance(ids, list) or not isinstance(units, list) or len(ids) != rows
            or len(units) != rows or any(arrays[name].shape[0] != rows for name in expected)):
        raise SnapshotMismatch("health snapshot rows do not match its sensor ids")
    row_of = {sensor_id: row for row, sensor_id in enumerate(sensor_ids)}
    saved_at = [i for i, sensor_id in enumerate(ids) if sensor_id in row_of]
    target = np.array([row_of[ids[i]] for i in saved_at], dtype=np.int64)
    source = np.array(saved_at, dtype=np.int64)
    monitor.restore_rows(target, {name: arrays[name][source] for name in expected},
                         [str(units[i]) for i in saved_at])
    return int(target.size)


def _still_meant(expected: dict[str, list[Any]], saved: object,
                 arrays: dict[str, NDArray[Any]], saved_format: int) -> dict[str, list[Any]]:
    """Of an older snapshot's columns, those this table has with the same type and shape
    and whose meaning has not changed since ``saved_format``."""
    if not isinstance(saved, dict):
        raise SnapshotMismatch("health snapshot has no column layout")
    changed: set[str] = set()
    for version in range(saved_format + 1, FORMAT + 1):
        changed |= CHANGED_IN.get(version, frozenset())
    kept = {name: layout for name, layout in expected.items()
            if saved.get(name) == layout and name in arrays and name not in changed}
    if "count" not in kept or "state" not in kept:
        raise SnapshotMismatch("health snapshot of an older format without its core columns")
    return kept


def _read(body: bytes) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Header and arrays of a snapshot; ``SnapshotMismatch`` for anything unreadable."""
    try:
        header, arrays = unpack(body)
    except ArchiveUnreadable as exc:
        raise SnapshotMismatch(f"health snapshot unreadable: {exc}") from exc
    return header, arrays


__all__ = ["FORMAT", "SnapshotMismatch", "dump", "load"]
