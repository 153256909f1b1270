"""Outliers: a reading far off the sensor's own fit is held until the next readings decide.

A held reading followed by one nearer the prediction was a spike (``spike`` announces it
once calm returns); one followed by readings that agree with it on the same side starts a
new level. Up to ``spike_burst`` held readings may be one spike (welding heat lasts a few
readings); one more, or a held reading the peers went to as well (their consensus moved
towards it, not only lies within its band), is a level change. While readings are held
the kernel predicts by a straight line (``robust.fit_window``): a quadratic carried past its
window runs away, and a return looked like more of the burst.

The check also keeps the last two spans of readings far off the fit (an episode: far-off
readings less than three intervals apart), by which its peers tell a burst they shared
from a spike of their own (``peers.peer_moved_between``).

Score: 1 while the reading is held as an outlier, else 0.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled, compiled_inline
from ..rules import sign

NAME = "outlier"

COLUMNS: dict[str, Field] = {
    # outliers held now, the newest of them, the largest residual among them (signed) and
    # when the first came
    "pending": (np.int64, 0),
    "pending_value": (np.float64, np.nan),
    "pending_size": (np.float64, 0.0),
    "pending_time": (np.float64, np.nan),
    # the last two spans of readings far off the fit, which the peers' spikes are told by
    "moved_start": (np.float64, np.nan),
    "moved_end": (np.float64, np.nan),
    "moved_before_start": (np.float64, np.nan),
    "moved_before_end": (np.float64, np.nan),
}


class Knobs(NamedTuple):
    spike_burst: int


class Evidence(NamedTuple):
    time: float
    value: float
    resid: float
    """The reading less the fit's prediction."""
    outlier: bool
    """Far off the fit, and not a move the peers shared."""
    far_off: bool
    """Far off the fit (whether or not the peers moved too)."""
    shared: bool
    """The peers' consensus moved with the reading (while readings are held: their
    consensus went there too, not only that the reading is within their band)."""
    expected_interval: float


class EvidenceColumns(NamedTuple):
    time: NDArray[np.float64]
    value: NDArray[np.float64]
    resid: NDArray[np.float64]
    outlier: NDArray[np.bool_]
    far_off: NDArray[np.bool_]
    shared: NDArray[np.bool_]
    expected_interval: NDArray[np.float64]


class Outcome(NamedTuple):
    held: bool
    """Readings were held before this one."""
    held_count: int
    continues: bool
    """The reading continues the held ones (near them, on their side)."""
    level_shift: bool
    """The held readings and this one are a new level: real."""
    spike_event: bool
    """The held readings were a spike: this one returned."""
    starts: bool
    """This reading starts a new hold."""
    event_size: float
    event_len: int
    held_now: bool
    """This reading is held (not trusted until the next ones decide)."""


@compiled_inline
def step(o: Any, k: Knobs, ev: Evidence) -> Outcome:
    """Judge one reading of the row: hold it, release the held ones, or keep on."""
    held_count = o.pending
    held_size = o.pending_size
    held = held_count > 0
    # A reading after a held outlier continues it when it is nearer the outlier than the
    # prediction (on the same side); otherwise the held readings were a spike.
    near = abs(ev.value - o.pending_value) < abs(ev.resid)
    continues = held and near and sign(ev.resid) == sign(held_size)
    level_shift = continues and (held_count >= k.spike_burst or ev.shared)
    spike_event = held and not continues
    starts = ev.outlier and not continues
    event_size = held_size if spike_event else 0.0
    event_len = held_count if spike_event else 0
    if starts:
        o.pending = 1
        o.pending_time = ev.time
    elif continues and not level_shift:
        o.pending = held_count + 1
    else:
        o.pending = 0
    o.pending_value = ev.value if starts or continues else np.nan
    if starts or (continues and abs(ev.resid) > abs(held_size)):
        o.pending_size = ev.resid
    if ev.far_off or continues:
        # Kept beyond the ring (nine readings: minutes on a 1-minute gauge) for as long as
        # a peer's spike takes to be announced.
        if not ev.time - o.moved_end <= 3.0 * ev.expected_interval:
            o.moved_before_start = o.moved_start
            o.moved_before_end = o.moved_end
            o.moved_start = ev.time
        o.moved_end = ev.time
    held_now = (ev.outlier or continues) and not level_shift
    return Outcome(held, held_count, continues, level_shift, spike_event, starts,
                   event_size, event_len, held_now)


@compiled
def learn_many(records: NDArray[np.void], k: Knobs, rows: NDArray[np.int64], ev: EvidenceColumns,
               scores: NDArray[np.float64]) -> None:
    """``step`` over readings in order; ``scores[i]``: 1 if reading i is held."""
    for i in range(rows.shape[0]):
        out = step(records[rows[i]], k, Evidence(
            ev.time[i], ev.value[i], ev.resid[i], ev.outlier[i], ev.far_off[i],
            ev.shared[i], ev.expected_interval[i]))
        scores[i] = 1.0 if out.held_now else 0.0
