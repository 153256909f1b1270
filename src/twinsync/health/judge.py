"""How a committed-to-be batch is judged: health folds it in and every reading gets its
quality. One function, so that the live service and the offline replay judge alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..pipeline import Batch, Flag
from .monitor import HealthChanges, HealthMonitor

#: Late readings of a batch scored one by one against their sensor's window (the rest
#: take their sensor's quality): scoring is per reading, in Python.
LATE_SCORED = 2_000


def judge_batch(health: HealthMonitor, batch: Batch, *,
                ordered: NDArray[np.bool_] | None = None,
                ahead: NDArray[np.float64] | None = None,
                late_scored: int = LATE_SCORED) -> HealthChanges:
    """Fold ``batch`` into ``health``, set ``batch.quality`` and return the state changes.

    Health folds every reading in event-time order, stale ones (an hourly upload) included
    (``Batch.in_order``); one behind its sensor's newest but within the allowed lateness
    is judged in its place by a re-fold (``refold``); a late one, further behind, is scored
    against the sensor's recent readings without being learned from (its arrival counts);
    one outside its kind's physical range is stored at quality 0. The caller takes a
    savepoint of
    ``batch.rows[batch.in_order()]`` first if the batch may yet be taken back, and may
    pass that ``in_order()`` as ``ordered``.

    ``ahead`` is, per reading, how many seconds the pipeline found its device's clock
    ahead and took off its time (``ClockTable.device_offsets``): health judges the clock
    by the stamp the device gave, so a clock an hour ahead is named even though its
    readings are placed right.
    """
    if ordered is None:
        ordered = batch.in_order()
    stamped = batch.event_time if ahead is None else batch.event_time + ahead
    if np.count_nonzero(ordered) == ordered.size:
        changes = health.update_many(batch.rows, batch.value, batch.event_time,
                                     received_at=batch.received_at, stamped=stamped)
        batch.quality = changes.reading_quality
        return changes
    changes = health.update_many(batch.rows[ordered], batch.value[ordered],
                                 batch.event_time[ordered],
                                 received_at=batch.received_at[ordered],
                                 stamped=stamped[ordered])
    # The rest arrived too: a sensor whose clock was set back sends only "old" readings.
    health.arrived(batch.rows[~ordered], batch.event_time[~ordered],
                   batch.received_at[~ordered], stamped=stamped[~ordered])
    quality = np.empty(len(batch))
    quality[ordered] = changes.reading_quality
    impossible = batch.flagged(Flag.OUT_OF_RANGE)
    late = ~ordered & ~impossible
    quality[late] = score_late(health, batch, late, late_scored)
    quality[impossible] = 0.0
    batch.quality = quality
    return changes


def score_late(health: HealthMonitor, batch: Batch, late: NDArray[np.bool_],
               late_scored: int = LATE_SCORED) -> NDArray[np.float64]:
    """Quality of late readings: each scored against its sensor's recent readings (a
    late spike is still a spike), up to ``late_scored`` a batch; the rest take their
    sensor's quality, as a replay of a long history would otherwise hold the writer."""
    index = np.flatnonzero(late)
    quality = health.quality(batch.rows[index])
    score = health.score_one
    for k, i in enumerate(index[:late_scored].tolist()):
        quality[k] = score(int(batch.rows[i]), float(batch.value[i]),
                           float(batch.event_time[i]))
    return quality
