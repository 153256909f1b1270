"""The innovation gate of the Kalman updates, and how a reading's health quality weighs it.

A reading far off the prediction is more likely a sensor's fault than the world's: with its
small measurement variance it would drag the state (and the parameters estimated in it) as
far as it is off, and a few such readings can drive a filter off for good. The gate screens
each element's reading by its normalised innovation squared,

    NIS = rᵀ S⁻¹ r,    r = z - h(x̂),    S = H P Hᵀ + R,

which is chi-square with ``p`` degrees of freedom (``p`` the measurement's size) while the
model fits. A reading with ``NIS`` above the ``probability`` quantile is *gated*: it is not
folded in, the element stays as predicted, and the update says so (``Innovation.gated``).

A gate must not lock reality out: a real step (a heater that failed, a sensor moved) looks
like a run of outliers. After ``reopen_after`` consecutive gated readings of an element, the
next reading that fails the gate *re-opens* it and is folded in (``Innovation.reopened``)
after the element's covariance is widened by two terms:

- ``δ δᵀ``, ``δ = Hᵀ (H Hᵀ)⁻¹ r``: the least change of the state (in the plain norm, so
  only the measured components: a zone's temperature, not its R and C) that explains the
  residual; the prediction's spread then covers the step the world took, and the reading
  is taken in nearly whole (its NIS afterwards is below 1);
- the filter's ``reopen_covariance`` (by default its covariance at the start): the element
  becomes at least as unsure as it was then, parameters included, so they can re-learn.

An accepted reading clears the count. Both terms are added, never multiplied, so a stream
of nonsense cannot compound the covariance without bound: each re-opening adds a bounded
amount, and the updates between take back what the readings see.

A reading's health quality ``q`` (0..1) divides its measurement variance, ``R / max(q,
quality_floor)``: a doubtful reading counts for less and is gated less readily, rather than
being averaged in as if it were good.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from .contract import Array, Counts, Flags


@dataclass(frozen=True, slots=True)
class Gate:
    """The gate's settings: ``probability`` of the chi-square quantile a good reading stays
    under, ``reopen_after`` consecutive gated readings before a failing one re-opens the
    element, ``quality_floor`` the least quality a reading's variance is divided by."""

    probability: float = 0.999
    reopen_after: int = 5
    quality_floor: float = 0.01

    def __post_init__(self) -> None:
        if not 0.0 < self.probability < 1.0:
            raise ValueError("the gate's probability must be in (0, 1)")
        if self.reopen_after < 1:
            raise ValueError("reopen_after must be at least 1")
        if not 0.0 < self.quality_floor <= 1.0:
            raise ValueError("the quality floor must be in (0, 1]")

    def threshold(self, dimension: int) -> float:
        """The NIS above which a reading of ``dimension`` components is gated."""
        return chi_square_quantile(self.probability, dimension)


#: The gate the filters use unless told otherwise (``gate=None`` turns it off).
DEFAULT_GATE = Gate()


def chi_square_cdf(x: float, dof: int) -> float:
    """P(χ²_dof ≤ x) for a whole number of degrees of freedom, from the closed forms (an
    error function for odd ``dof``, a finite sum for even), no SciPy at run time."""
    if dof < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if x <= 0:
        return 0.0
    half = x / 2.0
    if dof % 2 == 0:
        term, total = 1.0, 1.0
        for j in range(1, dof // 2):
            term *= half / j
            total += term
        return max(0.0, 1.0 - math.exp(-half) * total)
    # P(1) = erf(√(x/2)); P(k + 2) = P(k) - (x/2)^(k/2) e^(-x/2) / Γ(k/2 + 1)
    value = math.erf(math.sqrt(half))
    for k in range(1, dof, 2):
        value -= math.exp((k / 2.0) * math.log(half) - half - math.lgamma(k / 2.0 + 1.0))
    return max(0.0, value)


@lru_cache(maxsize=64)
def chi_square_quantile(probability: float, dof: int) -> float:
    """The ``probability`` quantile of χ²_dof (bisection on the CDF; exact via the normal
    quantile for one degree of freedom)."""
    if not 0.0 < probability < 1.0:
        raise ValueError("probability must be in (0, 1)")
    if dof == 1:
        return NormalDist().inv_cdf((1.0 + probability) / 2.0) ** 2
    low, high = 0.0, float(dof)
    while chi_square_cdf(high, dof) < probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if chi_square_cdf(middle, dof) < probability:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return (low + high) / 2.0


def quality_weighted(R: Array, quality: Array | None, floor: float) -> Array:
    """``R`` ``(B, p, p)`` divided per element by its reading's quality (at least ``floor``);
    ``quality`` ``(B,)`` in 0..1, or None for readings of full quality."""
    if quality is None:
        return R
    q = np.asarray(quality, dtype=np.float64)
    if q.shape != R.shape[:1]:
        raise ValueError(f"quality must be ({R.shape[0]},), got {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("quality must be finite")
    weighted: Array = R / np.clip(q, floor, 1.0)[:, None, None]
    return weighted


@dataclass(frozen=True, slots=True)
class Screen:
    """What the gate decided for each element of one update: ``gated`` (not folded in),
    ``reopened`` (folded in after its covariance was widened)."""

    nis: Array
    gated: Flags
    reopened: Flags


def screen(gate: Gate | None, nis: Array, dimension: int, run: Counts) -> Screen:
    """The gate's decision from each element's NIS (of a ``dimension``-component reading)
    and its run of gated readings so far."""
    if gate is None:
        nothing = np.zeros(nis.shape, dtype=bool)
        return Screen(nis, nothing, nothing)
    # written so that a NaN NIS fails the gate
    fails = ~(nis <= gate.threshold(dimension))
    reopened = fails & (run >= gate.reopen_after)
    gated = fails & ~reopened
    return Screen(nis, gated, reopened)


def jump_covariance(H: Array, residual: Array) -> Array:
    """``δ δᵀ`` per element for ``δ = Hᵀ (H Hᵀ)⁻¹ r``, the least change of the state that
    explains the residual ``r`` through the measurement matrix ``H`` ``(B, p, n)``."""
    Ht = np.swapaxes(H, -1, -2)
    delta = (Ht @ np.linalg.solve(H @ Ht, residual[..., None]))[..., 0]
    jump: Array = delta[:, :, None] * delta[:, None, :]
    return jump
