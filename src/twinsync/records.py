"""Per-sensor state as one record per row, read and written through column views.

Tables of per-sensor state (the pipeline's, the sequence windows, health) are indexed by
the dense sensor row. Stored as separate arrays (struct of arrays), one reading for a
random sensor touches one cache line per column; with 100,000 sensors none of them is in
the CPU's private cache, and each stage of a batch misses again on every column. Stored
as one record per row (array of structs) with the fields a stage reads side by side, a
reading touches a few adjacent lines, which the hardware fetches together.

Code keeps the column style: ``table.last_value[rows]`` is a strided NumPy view of the
records, for NumPy and the compiled kernels alike.

>>> records = Records({"count": (np.int64, 0), "value": (np.float64, np.nan)}, 4)
>>> records.grow(9)
True
>>> len(records), float(records.columns["value"][8]), records.columns["count"].strides
(9, nan, (64,))

A transaction that may fail after it changed some rows takes a savepoint of those rows
first and puts them back on failure (see ``savepoint`` and ``rollback``):

>>> point = records.savepoint(np.array([2, 5]))
>>> records.columns["count"][[2, 5]] = 7
>>> records.rollback(point)
>>> records.columns["count"][[2, 5]].tolist()
[0, 0]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

#: A field: its dtype, the value of a row never written, and optionally a per-row shape.
Field = tuple[DTypeLike, Any] | tuple[DTypeLike, Any, tuple[int, ...]]


#: A cache line. Records are padded to a multiple of it and the array starts on one, so a
#: record never shares a line with its neighbours and spans as few lines as it can.
LINE = 64


class RowsSavepoint(NamedTuple):
    """Rows of a ``Records`` as they were, taken by ``Records.savepoint``."""

    rows: NDArray[np.int64]
    values: NDArray[np.uint8]
    """The saved rows' bytes, one row of ``itemsize`` bytes each."""
    length: int


class Records:
    """A growable array of records, with a view per field in ``columns``; given an
    ``owner``, also as the owner's attribute of the field's name, kept up through growth."""

    def __init__(self, fields: Mapping[str, Field], capacity: int,
                 owner: object | None = None) -> None:
        self.fields = dict(fields)
        self._owner = owner
        packed = np.dtype([(name, spec[0], *spec[2:]) for name, spec in self.fields.items()],
                          align=True)
        assert packed.names is not None and packed.fields is not None
        layout: dict[str, Any] = {
            "names": packed.names,
            "formats": [packed.fields[name][0] for name in packed.names],
            "offsets": [packed.fields[name][1] for name in packed.names],
            "itemsize": -(-packed.itemsize // LINE) * LINE,
        }
        # NumPy's stubs know no dict form of dtype (names/formats/offsets/itemsize).
        self.dtype: np.dtype[np.void] = np.dtype(layout)  # type: ignore[call-overload]
        self.columns: dict[str, NDArray[Any]] = {}
        self._bind(self._blank(max(int(capacity), 1)))

    def __len__(self) -> int:
        return len(self.array)

    @property
    def row_bytes(self) -> int:
        return int(self.dtype.itemsize)

    @property
    def raw(self) -> NDArray[np.uint8]:
        """The records as bytes, one row of ``row_bytes`` a record (replaced on growth)."""
        return self._bytes

    def grow(self, needed: int) -> bool:
        """Make room for ``needed`` rows (doubling, like a list); True if the views changed."""
        if needed <= len(self.array):
            return False
        size = max(needed, 2 * len(self.array))
        grown = self._blank(size)
        grown[: len(self.array)] = self.array
        self._bind(grown)
        return True

    def savepoint(self, rows: NDArray[np.int64]) -> RowsSavepoint:
        """A copy of ``rows`` (as they are now) for ``rollback``; rows past the end are
        remembered as never written, so a row the transaction added is blanked again."""
        # A row given twice is saved twice, both copies of the same state: cheaper than
        # sorting the rows to drop the repeats.
        rows = np.asarray(rows, dtype=np.int64)
        inside = rows[rows < len(self.array)]
        # Copied as raw bytes: NumPy copies a record of many fields field by field, many
        # times slower than the bytes of the row.
        return RowsSavepoint(rows, np.take(self._bytes, inside, axis=0), len(self.array))

    def rollback(self, point: RowsSavepoint) -> None:
        """Put the saved rows back as they were (the table may have grown meanwhile)."""
        inside = point.rows[point.rows < point.length]
        self._bytes[inside] = point.values
        added = point.rows[(point.rows >= point.length) & (point.rows < len(self.array))]
        if added.size:
            self.array[added] = self._blank(1)[0]

    def _blank(self, rows: int) -> NDArray[np.void]:
        # Over-allocate bytes and start the records on a line boundary (malloc gives 16).
        raw = np.empty(rows * self.dtype.itemsize + LINE, dtype=np.uint8)
        start = -raw.ctypes.data % LINE
        array: NDArray[np.void] = raw[start: start + rows * self.dtype.itemsize].view(self.dtype)
        for name, spec in self.fields.items():
            array[name] = spec[1]
        return array

    def _bind(self, array: NDArray[np.void]) -> None:
        self.array = array
        self._bytes: NDArray[np.uint8] = array.view(np.uint8).reshape(len(array), -1)
        self.columns = {name: array[name] for name in self.fields}
        if self._owner is not None:
            for name, column in self.columns.items():
                setattr(self._owner, name, column)
