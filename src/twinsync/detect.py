"""The detector contract: a streaming check over a fleet, one row of state per sensor.

A detector (a health check, an anomaly detector) keeps a row of state per sensor and takes
readings one by one in each sensor's order, as river's detectors do, but for a whole
fleet at once: a reading names its row, and its evidence is a mapping of the fields the
detector declares (``evidence``). Parameters are fixed when it is made; nothing else
changes its behaviour.

- ``learn_one(row, reading)`` scores the reading against the row's state and learns it;
  it returns the score (a detector that scores without learning what it scores would
  take every stream twice).
- ``score_one(row, reading)`` is the same score, and the state is left as it was.
- ``learn_many(rows, readings)`` is ``learn_one`` over columns of readings in their order,
  with the same numbers: it is the form the reading path runs.
- ``save(rows)`` and ``restore(rows, saved)`` carry the state of rows across a restart as
  plain arrays (they go into a snapshot with NumPy's format, no pickling).
- ``ensure(max_row)`` makes room for a row; a fleet grows while the detector runs.

``check_detector`` is the conformance test every detector passes (``tests`` run it over
all of them): one at a time equals many at once and in chunks, scoring changes nothing,
a saved state restored into a fresh detector goes on as the old one would, growth keeps
every row's state, and a row's scores do not depend on other rows' readings.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from itertools import pairwise
from typing import Any, Protocol, cast

import numpy as np
from numpy.typing import NDArray

from .records import Records, RowsSavepoint

__all__ = ["Detector", "Readings", "RecordDetector", "check_detector"]

#: Columns of readings: each evidence field, one value per reading.
Readings = Mapping[str, NDArray[Any]]


class Detector(Protocol):
    """What a streaming detector over a fleet offers (see the module's docstring)."""

    name: str
    evidence: tuple[str, ...]

    def ensure(self, max_row: int) -> None: ...

    def learn_one(self, row: int, reading: Mapping[str, Any]) -> float: ...

    def score_one(self, row: int, reading: Mapping[str, Any]) -> float: ...

    def learn_many(self, rows: NDArray[np.int64], readings: Readings) -> NDArray[np.float64]:
        ...

    def save(self, rows: NDArray[np.int64]) -> dict[str, NDArray[Any]]: ...

    def restore(self, rows: NDArray[np.int64], saved: Mapping[str, NDArray[Any]]) -> None: ...


class RecordState:
    """State that is one record a sensor row (``records.Records``): growth, a transaction's
    savepoint and rollback, forgetting rows, and ``save``/``restore`` of rows across a
    restart. A subclass names itself (``name``, for errors) and makes ``self._records``."""

    name: str
    _records: Records

    def ensure(self, max_row: int) -> None:
        self._records.grow(max_row + 1)

    @property
    def columns(self) -> Mapping[str, NDArray[Any]]:
        """The state as columns, one entry a row (views: read, do not write)."""
        return self._records.columns

    @property
    def row_bytes(self) -> int:
        return self._records.row_bytes

    def savepoint(self, rows: NDArray[np.int64]) -> RowsSavepoint:
        """The state of ``rows`` as it is, for ``rollback`` if what changed them is not
        committed (the reading path's transaction)."""
        return self._records.savepoint(rows)

    def rollback(self, point: RowsSavepoint) -> None:
        self._records.rollback(point)

    def forget(self, rows: NDArray[np.int64]) -> None:
        """Start ``rows`` afresh, as never written."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size:
            self.ensure(int(rows.max()))
            self._records.array[rows] = Records(self._records.fields, 1).array[0]

    def save(self, rows: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
        rows = np.asarray(rows, dtype=np.int64)
        if rows.shape[0]:
            self.ensure(int(rows.max()))  # a row beyond the table is in its first state
        return {name: column[rows].copy() for name, column in self._records.columns.items()}

    def restore(self, rows: NDArray[np.int64], saved: Mapping[str, NDArray[Any]]) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        columns = self._records.columns
        if set(saved) != set(columns):
            raise ValueError(f"{self.name}: a saved state has columns {sorted(saved)}, "
                             f"this one {sorted(columns)}")
        for name, column in columns.items():
            if (saved[name].dtype != column.dtype or saved[name].shape[:1] != rows.shape
                    or saved[name].shape[1:] != column.shape[1:]):
                raise ValueError(f"{self.name}: saved column {name} is "
                                 f"{saved[name].dtype}{saved[name].shape}")
        if rows.shape[0]:
            self.ensure(int(rows.max()))
            for name, column in self._records.columns.items():
                column[rows] = saved[name]


class RecordDetector(RecordState):
    """The contract's plumbing for a detector whose state is one record a sensor
    (``RecordState``): ``learn_one`` and ``score_one`` (the score with the row's record put
    back after) from ``learn_many``. A subclass names itself and its ``evidence``, makes
    ``self._records`` and implements ``learn_many``, which makes room for its rows
    (``ensure``)."""

    evidence: tuple[str, ...]

    def learn_many(self, rows: NDArray[np.int64], readings: Readings) -> NDArray[np.float64]:
        raise NotImplementedError

    def learn_one(self, row: int, reading: Mapping[str, Any]) -> float:
        columns = {name: np.array([reading[name]]) for name in self.evidence}
        return float(self.learn_many(np.array([row], dtype=np.int64), columns)[0])

    def score_one(self, row: int, reading: Mapping[str, Any]) -> float:
        self.ensure(row)
        point = self._records.savepoint(np.array([row], dtype=np.int64))
        try:
            return self.learn_one(row, reading)
        finally:
            self._records.rollback(point)


def _one(readings: Readings, i: int) -> dict[str, Any]:
    return {name: column[i] for name, column in readings.items()}


def _part(readings: Readings, start: int, stop: int) -> dict[str, NDArray[Any]]:
    return {name: column[start:stop] for name, column in readings.items()}


def _same(a: NDArray[Any], b: NDArray[Any]) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def _same_state(a: Mapping[str, NDArray[Any]], b: Mapping[str, NDArray[Any]]) -> bool:
    return a.keys() == b.keys() and all(_same(a[name], b[name]) for name in a)


def _through_a_file(saved: Mapping[str, NDArray[Any]]) -> dict[str, NDArray[Any]]:
    buffer = io.BytesIO()
    # (NumPy's stubs type ``savez``'s keywords as its own options.)
    cast(Any, np.savez)(buffer, **saved)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as loaded:
        return {name: loaded[name] for name in loaded.files}


def check_detector(make: Callable[[], Detector], rows: NDArray[np.int64],
                   readings: Readings) -> None:
    """Raise ``AssertionError`` unless detectors from ``make`` keep the contract on the
    stream ``rows``/``readings`` (in arrival order; several rows, each with enough readings
    for its state to change)."""
    rows = np.asarray(rows, dtype=np.int64)
    n = rows.shape[0]
    assert n >= 4, "the stream is too short to check anything"
    probe = make()
    missing = set(probe.evidence) - set(readings)
    assert not missing, f"{probe.name}: the stream lacks {sorted(missing)}"
    readings = {name: np.asarray(readings[name]) for name in probe.evidence}
    known = np.unique(rows)

    whole = make()
    scores = whole.learn_many(rows, readings)
    assert scores.shape == (n,) and scores.dtype == np.float64, \
        f"{whole.name}: learn_many gives one float score a reading"
    assert len(set(scores.tolist())) > 1, \
        f"{whole.name}: every reading scored alike: the stream exercises nothing"
    final = whole.save(known)

    one = make()
    singly = np.array([one.learn_one(int(rows[i]), _one(readings, i)) for i in range(n)])
    assert _same(singly, scores), f"{one.name}: learn_one differs from learn_many"
    assert _same_state(one.save(known), final), \
        f"{one.name}: learn_one leaves another state than learn_many"

    chunked = make()
    cuts = [0, 1, n // 3, n // 3 + 1, (2 * n) // 3, n]
    parts = [chunked.learn_many(rows[a:b], _part(readings, a, b))
             for a, b in pairwise(cuts)]
    assert _same(np.concatenate(parts), scores), \
        f"{chunked.name}: learning in chunks differs from learning at once"

    scored = make()
    for i in range(n):
        row = int(rows[i])
        before = scored.save(known)
        guess = scored.score_one(row, _one(readings, i))
        assert _same_state(scored.save(known), before), \
            f"{scored.name}: score_one changed the state (reading {i})"
        got = scored.learn_one(row, _one(readings, i))
        assert _same(np.array([guess]), np.array([got])), \
            f"{scored.name}: score_one differs from learn_one's score (reading {i})"

    half = n // 2
    first = make()
    first.learn_many(rows[:half], _part(readings, 0, half))
    again = make()
    again.ensure(int(known.max()))
    again.restore(known, _through_a_file(first.save(known)))
    rest = again.learn_many(rows[half:], _part(readings, half, n))
    assert _same(rest, scores[half:]), \
        f"{again.name}: a restored state does not go on as the saved one would"
    assert _same_state(again.save(known), final), \
        f"{again.name}: a restored state ends elsewhere than the saved one would"

    # Growth: room made halfway through keeps every row's state; a row never written is
    # in its first state; rows far past the first capacity are taken without asking.
    far = 100_000
    grown = make()
    grown.learn_many(rows[:half], _part(readings, 0, half))
    grown.ensure(far)
    tail = grown.learn_many(rows[half:], _part(readings, half, n))
    assert _same(tail, scores[half:]), \
        f"{grown.name}: a grown fleet does not go on as before"
    fresh = make()
    fresh.ensure(far)
    untouched = np.array([far], dtype=np.int64)
    assert _same_state(grown.save(untouched), fresh.save(untouched)), \
        f"{grown.name}: a row never written is not in its first state"
    assert _same(make().learn_many(rows + far, readings), scores), \
        f"{grown.name}: rows far past the first capacity score otherwise"

    # Rows are independent: each row's readings alone give it the same scores.
    for row in known:
        mine = rows == row
        alone = make().learn_many(rows[mine], {k: c[mine] for k, c in readings.items()})
        assert _same(alone, scores[mine]), \
            f"{whole.name}: row {row}'s scores depend on other rows' readings"
