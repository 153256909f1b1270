"""A streaming detector's learned state as bytes, and back: what lets the live path's
anomaly detection survive a restart (a sensor would otherwise learn again for its warm-up
and ``settle`` readings, with the day as context for one to two days, and meanwhile tell no
anomaly).

``dump`` writes the detector's ``save`` of the rows in use, keyed by sensor id, with the
detector's name, its parameters and its columns' layout; ``load`` checks all of that
before writing anything, then ``restore``s each sensor into the row it has now. A state
learned with other parameters, or by another detector, is refused: its levels, tables and
usual novelty mean something else. The format is the health snapshot's (``archive``: an
uncompressed ``.npz`` with a JSON header, read without pickles).

>>> from twinsync.analytics.novelty import NoveltyDetector
>>> detector = NoveltyDetector(warmup=2, settle=0)
>>> _ = detector.learn_many(np.zeros(3, dtype=np.int64),  # a reading a day
...                        {"time": 86_400.0 * np.arange(3), "value": np.array([1.0, 2.0, 3.0])})
>>> fresh = NoveltyDetector(warmup=2, settle=0)
>>> load(fresh, dump(detector, ["t-1"]), ["t-1"])
1
>>> int(fresh.save(np.array([0]))["count"][0])
3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..archive import ArchiveUnreadable, layout, pack, unpack
from ..errors import InvalidInput

__all__ = ["DetectorSnapshotMismatch", "SavedDetector", "dump", "load"]

FORMAT = 1
#: The prefix of a column saved with the detector's that is not the detector's own.
EXTRA = "extra:"


class DetectorSnapshotMismatch(InvalidInput):
    """A saved detector state that this detector cannot take (corrupt, another detector,
    other parameters, another layout)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "anomaly_snapshot_mismatch")


class SavedDetector(Protocol):
    """What a snapshot needs of a detector: its name and parameters (``knobs``, a
    NamedTuple), and ``save``/``restore`` of rows (``detect.RecordDetector``'s). The anomaly
    detector and the twin's level/trend tracker (``physics/tracker.py``) are saved alike."""

    name: str
    knobs: Any

    def save(self, rows: NDArray[np.int64]) -> dict[str, NDArray[Any]]: ...

    def restore(self, rows: NDArray[np.int64], saved: Mapping[str, NDArray[Any]]) -> None: ...


def _header_of(detector: SavedDetector) -> dict[str, Any]:
    return {"format": FORMAT, "detector": detector.name,
            "params": {k: v for k, v in detector.knobs._asdict().items()}}


def dump(detector: SavedDetector, sensor_ids: Sequence[str],
         extra: Mapping[str, NDArray[Any]] | None = None) -> bytes:
    """The state of rows ``0 .. len(sensor_ids) - 1``; ``sensor_ids[row]`` names each.
    ``extra`` are more per-row columns kept with it (the anomaly monitor's: when each
    sensor last told an anomaly), one entry a sensor each."""
    arrays = detector.save(np.arange(len(sensor_ids), dtype=np.int64))
    more = {EXTRA + name: np.ascontiguousarray(a) for name, a in (extra or {}).items()}
    if any(len(a) != len(sensor_ids) for a in more.values()):
        raise ValueError("anomaly snapshot: one entry a sensor in each extra column")
    header = {**_header_of(detector), "ids": [str(s) for s in sensor_ids],
              "columns": layout(arrays), "extra": layout(more)}
    return pack(header, {**{name: np.ascontiguousarray(a) for name, a in arrays.items()},
                         **more})


def load(detector: SavedDetector, body: bytes, sensor_ids: Sequence[str],
         extra: Mapping[str, NDArray[Any]] | None = None) -> int:
    """Restore the sensors ``detector`` knows (``sensor_ids[row]``) from a ``dump``;
    returns how many. Each ``extra`` column (an array indexed by row, written in place)
    gets its saved entries too, if the dump has that column: one written before it
    existed leaves it as it is. Raises ``DetectorSnapshotMismatch``, having changed
    nothing, when the body is not a state this detector can take."""
    try:
        header, stored = unpack(body)
    except ArchiveUnreadable as exc:
        raise DetectorSnapshotMismatch(f"anomaly snapshot unreadable: {exc}") from exc
    arrays = {name: a for name, a in stored.items() if not name.startswith(EXTRA)}
    saved_extra = {name[len(EXTRA):]: a for name, a in stored.items() if name.startswith(EXTRA)}
    wanted = {name: column for name, column in (extra or {}).items() if name in saved_extra}
    for name, column in wanted.items():
        if layout({name: saved_extra[name]}) != layout({name: column}):
            raise DetectorSnapshotMismatch(f"anomaly snapshot column {name!r} differs")
    want = _header_of(detector)
    for key in ("format", "detector", "params"):
        if header.get(key) != want[key]:
            raise DetectorSnapshotMismatch(
                f"anomaly snapshot {key} {header.get(key)!r}, expected {want[key]!r}")
    expected = layout(detector.save(np.empty(0, dtype=np.int64)))
    if header.get("columns") != expected or layout(arrays) != expected:
        raise DetectorSnapshotMismatch("anomaly snapshot columns differ from the detector's")
    ids = header.get("ids")
    if not isinstance(ids, list) or any(len(a) != len(ids) for a in stored.values()):
        raise DetectorSnapshotMismatch("anomaly snapshot rows do not match its sensor ids")
    row_of = {sensor_id: row for row, sensor_id in enumerate(sensor_ids)}
    saved_at = [i for i, sensor_id in enumerate(ids) if sensor_id in row_of]
    target = np.array([row_of[ids[i]] for i in saved_at], dtype=np.int64)
    picked = np.array(saved_at, dtype=np.int64)
    detector.restore(target, {name: array[picked] for name, array in arrays.items()})
    for name, column in wanted.items():
        column[target] = saved_extra[name][picked]
    return len(saved_at)
