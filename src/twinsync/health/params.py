"""The parameters of the health checks, in one frozen place with the reasons for the values.

Defaults were tuned on ``twinsync bench health --seed 1`` and reported on other seeds (see
docs/HEALTH.md). Units: counts are readings, factors are multiples of the sensor's expected
interval or of its learned noise.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HealthParams:
    """Every knob of ``HealthMonitor``. Frozen: a monitor's behaviour is fixed at creation."""

    window: int = 9
    """Readings kept per sensor for the rolling robust fit (Hampel window)."""
    min_window: int = 5
    """Fewest trusted readings in the window before outliers are judged."""
    warmup: int = 24
    """Readings before a sensor's noise baseline is trusted (6 h at 15 min)."""

    stale_after: float = 3.0
    """Silent for this many expected intervals: stale."""
    offline_after: float = 12.0
    """Silent for this many expected intervals: offline."""
    interval_alpha: float = 0.1
    """EWMA weight of a new inter-arrival time when the interval is learned."""

    hampel_k: float = 6.0
    """Outlier when the residual exceeds this many robust sd. Large because the residual
    is a one-step-ahead prediction error, and real glitches are large."""
    spike_hold: int = 4
    """Readings the state stays ``spike`` after a confirmed spike."""

    noise_ratio: float = 2.0
    """The noise CUSUM is designed to catch this ratio of sd (current over baseline)."""
    noise_h: float = 12.0
    """Noise CUSUM threshold (log-likelihood units)."""
    noise_cap: float = 4.0
    """Squared residuals are capped at this many sd, so one spike cannot make a sensor noisy."""
    noise_alpha: float = 0.005
    """EWMA weight of the slow noise baseline after warm-up."""
    fast_alpha: float = 0.2
    """EWMA weight of the fast noise estimate (for the reason and the quality)."""

    stuck_min_run: int = 6
    """Fewest unchanged readings before stuck can be decided."""
    stuck_ref_k: float = 4.0
    """Peers (or the model) must have moved this many difference sd plus one resolution."""
    stuck_p: float = 1e-6
    """Without moving peers, stuck when the sensor's own history gives the run this
    probability or less."""

    drift_warmup: int = 48
    """Readings of difference to the reference before its baseline is trusted."""
    drift_k: float = 0.5
    """CUSUM allowance (difference sd): half of a 1-sd shift."""
    drift_h: float = 10.0
    """CUSUM threshold (difference sd)."""
    drift_clip: float = 3.0
    """Standardised differences are clipped here so a noise burst cannot look like drift."""
    drift_alpha: float = 0.002
    """EWMA weight of the difference baseline after warm-up (about five days at 15 min)."""
    drift_exit: float = 0.5
    """Leave drift when the smoothed offset is back within this many difference sd."""
    drift_run_gate: int = 3
    """No drift evidence from a reading repeating the last 3 values: it may be stuck."""
