"""The parameters of the health checks, in one frozen place with the reasons for the values.

Defaults were tuned on ``twinsync bench health --seed 1`` and reported on other seeds (see
docs/HEALTH.md). Units: counts are readings, factors are multiples of the sensor's expected
interval or of its learned noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints


@dataclass(frozen=True, slots=True)
class HealthParams:
    """Every knob of ``HealthMonitor``. Frozen: a monitor's behaviour is fixed at creation."""

    window: int = 9
    """Readings kept per sensor for the rolling robust fit (Hampel window)."""
    min_window: int = 6
    """Fewest trusted readings in the window before outliers are judged."""
    warmup: int = 96
    """Readings before a sensor's noise baseline is trusted (a day at 15 min)."""

    stale_after: float = 3.0
    """Silent for this many expected intervals: stale."""
    offline_after: float = 12.0
    """Silent for this many expected intervals: offline."""
    interval_alpha: float = 0.1
    """EWMA weight of a new inter-arrival time when the interval is learned."""
    hampel_k: float = 4.5
    """Outlier when the residual exceeds this many robust sd. Large because the residual
    is a one-step-ahead prediction error, and real glitches are large."""
    spike_hold: int = 4
    """Readings the state stays ``spike`` after a confirmed spike."""
    spike_confirm: int = 4
    """Ordinary readings after the return before a spike is announced. The onset of a noise
    burst looks like a spike until its next readings; a real spike is followed by calm.
    Four (an hour at 15 min): a noise burst not yet known as such makes held outliers,
    which the noise checks do not see, every few readings; with two, many a burst's first
    outlier was announced as a spike before the next one came."""

    noise_ratio: float = 2.0
    """The noise CUSUM is designed to catch this ratio of sd (current over baseline)."""
    noise_h: float = 14.0
    """Noise CUSUM threshold (log-likelihood units). At 12 the bench's seeds 1-7 gave 3-7
    false noisy alarms each (healthy sensors, and the end of a drift: one large step, then
    a window still bent by it); at 14, 0-3. A burst of 3x the noise still crosses 14 in
    hours."""
    noise_cap: float = 4.0
    """Squared residuals are capped at this many sd, so one spike cannot make a sensor noisy."""
    noise_alpha: float = 0.005
    """EWMA weight of the slow noise baseline after warm-up."""
    fast_alpha: float = 0.2
    """EWMA weight of the fast noise estimate (for the reason and the quality)."""
    noise_big: float = 2.0
    """A step beyond this many baseline sd counts as large."""
    noise_confirm: int = 4
    """Noisy needs this many large steps among the last ``noise_recent`` readings as well as
    the CUSUM: the edges of a level change (a spike, the end of a drift) make one or two."""
    noise_recent: int = 8
    """Readings over which large steps are counted for ``noise_confirm``."""
    tail_share: float = 0.02
    """A sensor (of a kind not declared) with more than this share of its ordinary steps
    beyond 3 sd is bursty (``context``; 0.27 % for Gaussian steps): jumps are its normal
    behaviour, as a door's on a room's air."""
    bursty_noise_h: float = 2.0
    """A bursty sensor is noisy only when the noise CUSUM reaches this many times
    ``noise_h``: its evidence must hold that much longer."""
    noise_peer_share: float = 0.25
    """A rise of noise evidence is the process when a peer's evidence is at this share of
    its own threshold too (or it is noisy): a busy day of short bursts on a zone's vibration
    gauges, not a sensor's fault. Faults are the sensor's own; two at once in one group are
    rare."""
    spike_burst: int = 5
    """Held readings that may still be one spike (a burst of welding heat is 3-5); one more
    on the same side is a level change. Where the peers' consensus went there too (it left
    the sensor's own prediction towards the reading by ``peer_shared_share`` of the
    reading's departure or more), it is a level change (or no outlier) at once."""
    peer_shared_k: float = 4.5
    """A reading within this many difference sd of the peers' consensus (its usual offset
    taken off) moved with its group: no outlier, no spike."""
    peer_shared_share: float = 0.5
    """So did a reading whose difference to the consensus is within this share of its own
    residual: the peers explain most of its move (each sees a transient by its own
    factor). While readings are held, the consensus must have moved this share of the
    reading's departure towards it for them to be a level the peers share: within their
    band of ``peer_shared_k`` is not enough (a burst's tail comes back into it)."""

    stuck_min_run: int = 6
    """Fewest unchanged readings before stuck can be decided."""
    stuck_ref_k: float = 4.0
    """Peers (or the model) must have moved this many difference sd plus one resolution."""
    stuck_p: float = 1e-6
    """Without moving peers, stuck when the sensor's own history gives the run this
    probability or less."""

    drift_warmup: int = 64
    """Readings of difference to the reference before its mean and sd are trusted."""
    drift_learn: float = 86400.0
    """Seconds of readings against the consensus before drift is judged: how a sensor
    follows its peers (its share of a shared transient) needs a day of them to be seen."""
    drift_memory: float = 3 * 86400.0
    """Seconds of memory of how the sensor follows its peers' consensus (its offset and its
    share of their movements): long against a transient, short against the slow wander of
    a sensor's bias. While a drift is charted, it is not learned; a chart out for longer
    than this with an offset below half of ``drift_min_size`` is the bias wandering, and
    the offset is learned again."""
    drift_share_prior: float = 2.0
    """The share is taken as 1 until the consensus has moved by more than this many of the
    sensor's noise sd: a share learned from a consensus that hardly moved is noise."""
    drift_settle: int = 24
    """Readings the EWMA chart runs before its spread is measured."""
    drift_spread: int = 96
    """Readings over which the chart's spread is first measured; then drift is judged."""
    drift_tau: float = 21600.0
    """Seconds of memory of the smoothed offset (the chart's EWMA, by time: a one-minute and
    a fifteen-minute sensor chart the same hours). Six hours: one share for the daily cycle
    and a transient (a pour's heat, a room's heating) leaves a misfit that swings with the
    day; over 100 minutes it crossed the line on the swing (tune set, 10 days: 26 false
    drifts), over six hours it mostly averages out (4), and a drift of days loses hours."""
    drift_h: float = 6.0
    """Drift when the smoothed offset leaves this many of its own learned sd."""
    drift_exit: float = 1.5
    """Drift ends when the smoothed offset is back within this many sd of its chart, or
    below half of ``drift_min_size``."""
    drift_min_size: float = 2.5
    """Drift only when the smoothed offset is more than this many residual sd (the sd of
    the reading around what the consensus predicts for it). With the six-hour chart the
    offset is smoother: 2.5 found 2 more offsets and a drift of the tune set for one more
    false alarm than 3; 2 gave 15 false drifts."""
    peer_trust: float = 1e9
    """A sensor whose offset chart is beyond this many sd is no reference for its peers. Off
    by default: a drifting sensor's healthy peers are pulled too, and dropping them left the
    culprit with no reference."""
    drift_blame: float = 1.3
    """Drift is blamed on a sensor only when its smoothed offset is this many times the
    largest of its peers'. In a group of three a drifting sensor moves each peer's
    reference by half its drift, so the culprit's offset is twice theirs, give or take
    noise; a margin keeps a noisy moment from blaming the wrong one."""
    drift_clip: float = 3.0
    """Residuals are clipped here (residual sd) before the chart smooths them, so one wild
    reading (the first of a noise burst, a shared transient the sensor follows late) moves
    it little; a drift, charted long before its offset reaches this, loses almost nothing."""
    drift_alpha: float = 0.005
    """EWMA weight of the slow baselines after warm-up (a few days at 15 min)."""
    drift_run_gate: int = 3
    """No drift evidence from a reading repeating the last 3 values: it may be stuck."""
    noise_release: float = 86_400.0
    """A noisy sensor is ok again only after this long (seconds) without several large
    steps among its last few (as noisy needs to begin), as well as the quiet CUSUM: a fault
    that shakes a sensor in work hours only (a loose connector near machines) leaves its
    nights quiet, and a state that came and went with the working day would flap twice a
    day and trust the sensor each night. A day covers every such cycle; chosen so, not
    fitted."""
    noise_group_move: float = 3.0
    """A reading whose peers' consensus moved by more than this many of the sensor's step
    sd since its last trusted reading is no noise evidence: a transient the group shares (a
    door opening) is seen by peers read at other times with a lag, so the sensor's steps
    against their consensus are large through it too, not only its own steps. Three step
    sd: beyond what the peers' own noise moves their median; chosen so, not fitted."""
    noise_unsettled: float = 3.0
    """A sensor whose fast noise estimate (mean squared step, in baseline step sd) is above
    this is unsettled: its readings are no drift evidence and no spike is announced. A
    noise burst walks the offset chart and throws outliers in its first hours, before the
    noise CUSUM is sure; the fast estimate sees it within a few readings. A drift does not
    raise it (its step per reading is a small fraction of the noise), nor a lone spike
    (held readings are not counted)."""

    cadence_quantile: float = 0.9
    """Stale and offline count in the cadence of arrivals, this quantile of the gaps between
    them: a source that delivers every 5 minutes in groups has a 5-minute cadence."""
    cadence_rate: float = 0.05
    """Step of the cadence's quantile per gap, in log seconds (times the quantile up, times
    its complement down). It starts as the shortest of the first 8 gaps; a given interval
    is its floor."""
    hold_min: float = 3600.0
    """A sensor named stale stays named until its readings have arrived regularly for this
    many seconds after its last gap (no flapping on intermittent dropouts) ..."""
    hold_after: float = 12.0
    """... and for at least this many cadences."""
    clock_bound: float = 900.0
    """Clock: the quickest reading of the last half windows is stamped more than this many
    seconds behind its arrival ..."""
    clock_cadences: float = 2.0
    """... and more than this many cadences (a gateway sending every 10 minutes delivers
    readings up to 10 minutes old)."""
    clock_half: float = 1800.0
    """Seconds of a half window of the clock's least lag (two halves are needed)."""


Knobs = TypeVar("Knobs")


_KNOBS: dict[tuple[type, HealthParams], Any] = {}


def knobs_of(kind: type[Knobs], params: HealthParams) -> Knobs:
    """The fields of the NamedTuple ``kind`` taken from ``params``, each converted to the
    type ``kind`` declares: the compiled code is built for those types, and an int where a
    float is expected would compile it again. Kept per (kind, params): reasons and the
    replay's timer ask for them often, and the parameters are frozen."""
    known: Knobs | None = _KNOBS.get((kind, params))
    if known is None:
        types: dict[str, Any] = get_type_hints(kind)
        fields: tuple[str, ...] = kind._fields  # type: ignore[attr-defined]
        known = kind(*(types[name](getattr(params, name)) for name in fields))
        _KNOBS[(kind, params)] = known
    return known
