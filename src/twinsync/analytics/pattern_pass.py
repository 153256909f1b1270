"""The one compiled pass over readings that the pattern detectors (``novelty``,
``surprise``) share: each reading learned by its detector's step on its sensor's row, or,
for a reading that does not teach, scored on a copy of the row.

The step is the detector's own, picked while numba types the pass, by the class of the
detector's knobs (each registers its step with ``register_step``). Not passed in as an
argument: numba types a compiled function handed to another by the identity of its
dispatcher, so such a pass is compiled again in every process and never found in the
cache (and its cache file grows with every process). A step picked by the knobs' class is
keyed by that class alone, which the cache finds again. With ``NUMBA_DISABLE_JIT=1``
``step`` is plain Python and looks the step up by the same class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import types
from numba.extending import overload
from numpy.typing import NDArray

from ..jit import LIGHT_PASS_AHEAD, compiled, prefetch_row

__all__ = ["learn_pass", "register_step", "step"]

Step = Callable[[Any, Any, float, float], float]
_STEPS: dict[type, Step] = {}


def step(s: Any, k: Any, time: float, value: float) -> float:
    """One reading of the row ``s`` learned by the step registered for ``k``'s class."""
    return _STEPS[type(k)](s, k, time, value)


def register_step(knobs: type, implementation: Step) -> None:
    """Make ``implementation`` (a compiled function of a row, the knobs, a time and a
    value) the step of the detectors whose knobs are of the NamedTuple class ``knobs``."""
    if knobs in _STEPS:
        raise ValueError(f"a step is registered for {knobs.__name__} already")
    _STEPS[knobs] = implementation

    @overload(step)
    def _typed(s: Any, k: Any, time: Any, value: Any) -> Step | None:
        # (numba's stubs do not declare a named tuple type's class)
        if isinstance(k, types.BaseNamedTuple) and getattr(k, "instance_class", None) is knobs:
            # (numba wants the parameters spelled as the typing function's, annotations too)
            def _run(s: Any, k: Any, time: Any, value: Any) -> float:
                return implementation(s, k, time, value)

            return _run
        return None


@compiled
def learn_pass(
    records: NDArray[np.void],
    raw: NDArray[np.uint8],
    scratch: NDArray[np.void],
    scratch_raw: NDArray[np.uint8],
    first_line: NDArray[np.int64],
    k: Any,
    rows: NDArray[np.int64],
    times: NDArray[np.float64],
    values: NDArray[np.float64],
    teach: NDArray[np.bool_],
    scores: NDArray[np.float64],
) -> None:
    n = rows.shape[0]
    for i in range(n):
        # A large fleet's records are rarely in cache: ask for one a few readings ahead.
        if i + LIGHT_PASS_AHEAD < n:
            prefetch_row(first_line, rows[i + LIGHT_PASS_AHEAD])
        if teach[i]:
            scores[i] = step(records[rows[i]], k, times[i], values[i])
        else:
            # Scored on a copy of its record: the state stays as it was.
            scratch_raw[0, :] = raw[rows[i], :]
            scores[i] = step(scratch[0], k, times[i], values[i])
