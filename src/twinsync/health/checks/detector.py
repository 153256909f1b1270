"""A health check on its own, under the detector contract (``twinsync.detect``).

The monitor runs the checks inside one compiled fold over the health table, where each
takes its evidence from what the fold computed (the fit, the reference, the other checks'
verdicts). ``HealthCheck`` runs one check alone, on a table of its own columns, with the
evidence given per reading: for tests of a check in isolation, for the contract's
conformance test, and for a new check before the fold calls it. Alone, a check has no
peer group: what it would ask of its peers (``noise``: is their evidence rising too;
``spike``: did they move in the same span) is answered "no".

>>> from twinsync.health.checks import stuck
>>> check = HealthCheck(stuck)
>>> reading = dict(value=20.0, ref=20.0, res=0.1, tolerance=0.05, diff_sd=0.1,
...                peers_known=False, via_peers=False, relative=False,
...                quiet=False, learn_repeats=True, was_stuck=False, declared=False,
...                peers_spread=float("nan"))
>>> check.learn_one(0, reading)
0.0
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, get_type_hints

import numpy as np
from numpy.typing import NDArray

from ...detect import Readings, RecordDetector
from ...jit import record_rows
from ...records import Records
from ..params import HealthParams, knobs_of

__all__ = ["HealthCheck"]

# The dtype of an evidence column, by the type of the field in one reading's evidence.
_DTYPES: dict[Any, Any] = {float: np.float64, int: np.int64, bool: np.bool_}


class HealthCheck(RecordDetector):
    """``check`` (a module of ``twinsync.health.checks``) as a ``detect.Detector``."""

    def __init__(self, check: ModuleType, params: HealthParams | None = None,
                 capacity: int = 16) -> None:
        self.check = check
        self.name: str = check.NAME
        self.params = params or HealthParams()
        self._knobs = knobs_of(check.Knobs, self.params)
        self.evidence: tuple[str, ...] = check.EvidenceColumns._fields
        hints = get_type_hints(check.Evidence)
        self._dtypes = {name: _DTYPES[hints[name]] for name in self.evidence}
        self._records = Records(check.COLUMNS, max(int(capacity), 1))

    def learn_many(self, rows: NDArray[np.int64], readings: Readings) -> NDArray[np.float64]:
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        scores = np.empty(rows.shape[0])
        if rows.shape[0] == 0:
            return scores
        if rows.min() < 0:
            raise ValueError(f"{self.name}: rows are 0 or more")
        self.ensure(int(rows.max()))
        evidence = self.check.EvidenceColumns(*(
            np.ascontiguousarray(readings[name], dtype=self._dtypes[name])
            for name in self.evidence))
        if any(column.shape != rows.shape for column in evidence):
            raise ValueError(f"{self.name}: every evidence column has one value a reading")
        self.check.learn_many(record_rows(self._records.array), self._knobs, rows, evidence, scores)
        return scores
