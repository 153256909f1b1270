"""Stuck: a run of readings within half a resolution of the run's first.

Once named, a run holds while the readings stay within one and a half resolutions of its
first (a frozen sensor whose last bit flickers); the first reading beyond ends it.

A run is stuck when it is long (``stuck_min_run``) and either the reference moved while
the sensor did not (by more than ``stuck_ref_k`` difference sd and two resolutions), or the
sensor's own history makes such a run improbable (it repeats itself less often when
healthy; learned while it is ok), unless its noise at the level it reads is below its
resolution. A vibration gauge repeats itself at night and seldom
by day, so with peers to follow it is judged by them alone; and a run the peers held
still through (their consensus within one and a half resolutions and its own scatter, at
most one resolution more) is their quiet night too; for a vibration gauge only a move
away from the run's value counts (a zone falling quiet to the level it reads is none).
Within a declared site event (``events``) the peers' moves are no evidence: the run is
judged by the sensor's own history alone; nor is a move smaller than the peers' own spread
(one peer far from the others moved the median).

Score: 1 while stuck, else 0.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...records import Field
from .._jit import compiled, compiled_inline

NAME = "stuck"

COLUMNS: dict[str, Field] = {
    # the current run of unchanged readings: its length, its first value, the reference
    # when it began and how far that has moved since (now, not the most it ever was)
    "run_len": (np.int64, 0),
    "run_anchor": (np.float64, np.nan),
    "run_ref_start": (np.float64, np.nan),
    "run_ref_moved": (np.float64, 0.0),
    # how often the sensor repeats its last value when healthy
    "p_same": (np.float64, 0.5),
    "p_same_n": (np.int64, 0),
}


class Knobs(NamedTuple):
    warmup: int
    stuck_min_run: int
    stuck_ref_k: float
    stuck_p: float


class Evidence(NamedTuple):
    value: float
    ref: float
    """What the sensor is expected to follow (NaN: nothing)."""
    res: float
    tolerance: float
    """Half a resolution: a value within it of the run's first is the same."""
    diff_sd: float
    """Sd of the sensor's difference to its peers' consensus."""
    peers_known: bool
    """That difference has been learned."""
    via_peers: bool
    """The reference is the peers' consensus (not the model)."""
    relative: bool
    """The sensor's noise grows with its level (vibration)."""
    quiet: bool
    """At the level it reads now, the sensor's own noise is below its resolution (a
    vibration gauge at night): it repeats itself whatever its history says."""
    learn_repeats: bool
    """The sensor is ok and was heard just before: its repeats teach ``p_same``."""
    was_stuck: bool
    declared: bool
    """A declared site event concerns the reading: the peers' moves are not the sensor's
    to follow (a pour's heat reaches each depth of a slab in its own time)."""
    peers_spread: float
    """How far the peers lie apart now (``peers.peer_view``; NaN: fewer than two)."""


class EvidenceColumns(NamedTuple):
    value: NDArray[np.float64]
    ref: NDArray[np.float64]
    res: NDArray[np.float64]
    tolerance: NDArray[np.float64]
    diff_sd: NDArray[np.float64]
    peers_known: NDArray[np.bool_]
    via_peers: NDArray[np.bool_]
    relative: NDArray[np.bool_]
    quiet: NDArray[np.bool_]
    learn_repeats: NDArray[np.bool_]
    was_stuck: NDArray[np.bool_]
    declared: NDArray[np.bool_]
    peers_spread: NDArray[np.float64]


class Outcome(NamedTuple):
    stuck: bool
    run: int
    likely: float
    """How likely a repeat is for this sensor (bounded away from 0 and 1)."""


@compiled_inline
def run_tolerance(tolerance: float, res: float, named: bool) -> float:
    """How far a reading may be from its run's first and continue the run. Hysteresis:
    once named, a run holds within one resolution step more. A frozen sensor whose last
    bit flickers moves by one step now and then; ending the run there ended the state
    within minutes, and the still frozen sensor was then called drifting from its peers."""
    return tolerance + res if named else tolerance


@compiled_inline
def step(s: Any, k: Knobs, ev: Evidence) -> Outcome:
    """Judge one reading of the row."""
    x = ev.value
    ref = ev.ref
    run = s.run_len
    same = run > 0 and abs(x - s.run_anchor) <= run_tolerance(ev.tolerance, ev.res,
                                                               ev.was_stuck)
    if same:
        run += 1
        # The reference is measured from the run's second reading, not its first: peers
        # report on their own clocks, so when the run began (a shift's end, all of a
        # zone falling quiet at once) their consensus may still be the one from before.
        ref_start = ref if run == 2 else s.run_ref_start
    else:
        run = 1
        ref_start = ref
        s.run_anchor = x
    if math.isnan(ref_start):
        ref_start = ref
    before = s.run_ref_moved if same else 0.0
    if same and math.isfinite(ref) and ev.relative:
        # For a gauge whose noise grows with its level (vibration) a move counts only away
        # from the run's value: a zone falling quiet to the level a quick gauge already
        # reads is no move it failed to follow (its slower peers' last word, from before
        # the shift's end, is what the run began beside).
        moved = max(abs(ref - s.run_anchor) - abs(ref_start - s.run_anchor), 0.0)
    elif same and math.isfinite(ref):
        moved = abs(ref - ref_start)
    elif same:
        moved = s.run_ref_moved
    else:
        moved = 0.0
    s.run_len = run
    s.run_ref_start = ref_start
    s.run_ref_moved = moved
    # How often this sensor repeats itself when healthy, to judge a run without peers.
    n_same = s.p_same_n
    if ev.learn_repeats:
        rate = 1.0 / (n_same + 2.0) if n_same < 96 else 0.01
        s.p_same = s.p_same + rate * ((1.0 if same else 0.0) - s.p_same)
        s.p_same_n = n_same + 1
    likely = min(max(s.p_same, 0.02), 0.98)
    # The peers held still through the run as far as they were heard. A reading at which
    # they are not (one of three was between readings, or late) leaves the run judged by
    # what they did until then: judged by the sensor's own history alone there, a coarse
    # room logger still through the night was called stuck at the one reading its peers
    # were missing, its repeats learned from the day's doors and heating.
    # Still is within one and a half of the sensor's steps and the consensus's own
    # scatter, as far as one more step hides it: the peers' median jumps about by their
    # noise and quantisation from one reading to the next (by as much as the sensor's
    # difference to it, ``diff_sd``), and a humidity logger read to 2 % that sat at 62 %
    # through a night was called stuck the first time that scatter took the median 3 %
    # from where it stood at the run's start. No more than a step: a fine sensor (a strain
    # gauge to 1 µε) frozen at its rail repeats itself improbably whatever its peers'
    # scatter, and its history must still say so.
    followed = ev.via_peers or (math.isnan(ref) and math.isfinite(ref_start))
    scatter = min(2.0 * ev.diff_sd, ev.res)
    peers_still = followed and ev.peers_known and moved < 1.5 * ev.res + scatter
    own_history = n_same >= k.warmup and (run - 1) * math.log(likely) < math.log(
        k.stuck_p) and not (ev.relative and ev.via_peers) and not ev.quiet and not peers_still
    # A bursty gauge's peers may catch a burst of a few minutes between two of its own
    # readings: for it the reference must have moved at two of its readings running.
    shown = min(moved, before) if ev.relative else moved
    # A move the peers do not share is no evidence: with one of them wired to the next bay
    # (or its clock off) their median of two follows it, and a sensor read to half a
    # degree that held still for an hour would be called stuck for it.
    reference_moved = ev.peers_known and not ev.declared and (
        shown > k.stuck_ref_k * ev.diff_sd + 2.0 * ev.res) and not shown <= ev.peers_spread
    stuck = same and (ev.was_stuck or (run >= k.stuck_min_run
                                       and (reference_moved or own_history)))
    return Outcome(stuck, run, likely)


@compiled
def learn_many(records: NDArray[np.void], k: Knobs, rows: NDArray[np.int64], ev: EvidenceColumns,
               scores: NDArray[np.float64]) -> None:
    """``step`` over readings in order; ``scores[i]``: 1 if stuck at reading i."""
    for i in range(rows.shape[0]):
        out = step(records[rows[i]], k, Evidence(
            ev.value[i], ev.ref[i], ev.res[i], ev.tolerance[i], ev.diff_sd[i],
            ev.peers_known[i], ev.via_peers[i], ev.relative[i], ev.quiet[i], ev.learn_repeats[i],
            ev.was_stuck[i], ev.declared[i], ev.peers_spread[i]))
        scores[i] = 1.0 if out.stuck else 0.0
