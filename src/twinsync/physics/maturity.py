"""Concrete maturity per ASTM C1074: how much strength a concrete has gained from its
temperature history. Pure and vectorised: NumPy columns in, NumPy columns out.

The two maturity indices of the standard, each a running sum over the intervals between
readings, with the interval's temperature taken as the mean of its two readings:

- the *temperature-time factor* (Nurse-Saul, the standard's Eq. 1), in °C·h:
  ``M(t) = Σ (T_a - T_0) Δt``, where ``T_0`` is the datum temperature below which the
  concrete is taken to gain nothing (an interval colder than it adds zero, never less);
- the *equivalent age* at a reference temperature (Arrhenius, Eq. 2), in hours:
  ``t_e = Σ exp(-Q (1/T_a - 1/T_s)) Δt``, temperatures in kelvin, ``Q = E / R`` the
  activation energy over the gas constant.

Strength follows from a strength-maturity relation fitted to the mix's lab cylinder
breaks: logarithmic, ``S = a + b·log10(M)`` (``fit_logarithmic`` fits it), or hyperbolic,
``S = S_u·k(M - M_0) / (1 + k(M - M_0))`` (the standard's Appendix X1), in whichever
index the mix was calibrated in.

A curve fitted from breaks keeps how far the breaks scatter about it (``BreakScatter``),
and so gives the strength at a maturity with a prediction interval (``interval``): the
element is one more specimen of the mix, its strength as uncertain as a cylinder's at
that maturity, the more so the further the maturity lies from the breaks'. A curve given
by its parameters alone has no interval.

Long gaps are not bridged silently: ``max_gap_hours`` makes an interval longer than it add
nothing, so the sum is a lower bound (concrete never loses maturity); the same call
without it bridges every gap with a straight line. A caller shows both.

>>> hours = np.array([0.0, 12.0, 24.0])
>>> temperature_time_factor(hours, np.array([10.0, 10.0, 10.0]), datum_c=0.0).tolist()
[0.0, 120.0, 240.0]
>>> LogarithmicCurve(a=-20.0, b=12.0).strength(np.array([1000.0])).tolist()
[16.0]
>>> round(t_quantile(0.95, 13), 3)  # Student's t, 13 degrees of freedom (tables: 1.771)
1.771
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: 0 °C in kelvin.
KELVIN = 273.15
#: The molar gas constant, J/(mol·K).
GAS_CONSTANT = 8.314462618
#: Defaults a mix overrides with its own lab values (ASTM C1074 says how to find them):
#: -10 °C, the classic Nurse-Saul datum; 40 kJ/mol; 20 °C as the reference temperature.
DATUM_TEMPERATURE_C = -10.0
ACTIVATION_ENERGY = 40_000.0
REFERENCE_TEMPERATURE_C = 20.0

Index = Literal["temperature_time_factor", "equivalent_age"]
INDICES: tuple[Index, ...] = ("temperature_time_factor", "equivalent_age")
#: The coverage of the strength intervals the twin shows.
COVERAGE = 0.9


def _intervals(
    hours: ArrayLike, temperature_c: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each interval's length (h) and mean temperature (°C), checked."""
    times = np.asarray(hours, dtype=np.float64)
    temps = np.asarray(temperature_c, dtype=np.float64)
    if times.ndim != 1 or times.shape != temps.shape:
        raise ValueError("hours and temperatures must be columns of the same length")
    if not (np.all(np.isfinite(times)) and np.all(np.isfinite(temps))):
        raise ValueError("hours and temperatures must be finite")
    step = np.diff(times)
    if np.any(step < 0):
        raise ValueError("readings must be in time order")
    return step, (temps[1:] + temps[:-1]) / 2.0


def long_gaps(hours: ArrayLike, max_gap_hours: float) -> NDArray[np.bool_]:
    """Which intervals between readings are longer than ``max_gap_hours``."""
    return np.diff(np.asarray(hours, dtype=np.float64)) > max_gap_hours


def _running(
    contribution: NDArray[np.float64], step: NDArray[np.float64], max_gap_hours: float
) -> NDArray[np.float64]:
    contribution = np.where(step > max_gap_hours, 0.0, contribution)
    out = np.zeros(contribution.shape[0] + 1)
    np.cumsum(contribution, out=out[1:])
    return out


def temperature_time_factor(
    hours: ArrayLike,
    temperature_c: ArrayLike,
    *,
    datum_c: float = DATUM_TEMPERATURE_C,
    max_gap_hours: float = math.inf,
) -> NDArray[np.float64]:
    """The Nurse-Saul temperature-time factor (°C·h) at each reading, 0 at the first.

    ``hours`` since any origin, in order; ``temperature_c`` the concrete's temperature."""
    step, mean = _intervals(hours, temperature_c)
    return _running(np.maximum(mean - datum_c, 0.0) * step, step, max_gap_hours)


def age_factor(
    temperature_c: ArrayLike,
    *,
    activation_energy: float = ACTIVATION_ENERGY,
    reference_c: float = REFERENCE_TEMPERATURE_C,
) -> NDArray[np.float64]:
    """How many hours at the reference temperature an hour at ``temperature_c`` is worth
    (the age conversion factor of the Arrhenius function)."""
    temps = np.asarray(temperature_c, dtype=np.float64)
    q = activation_energy / GAS_CONSTANT
    factor: NDArray[np.float64] = np.exp(
        -q * (1.0 / (temps + KELVIN) - 1.0 / (reference_c + KELVIN))
    )
    return factor


def equivalent_age(
    hours: ArrayLike,
    temperature_c: ArrayLike,
    *,
    activation_energy: float = ACTIVATION_ENERGY,
    reference_c: float = REFERENCE_TEMPERATURE_C,
    max_gap_hours: float = math.inf,
) -> NDArray[np.float64]:
    """The equivalent age (hours at ``reference_c``) at each reading, 0 at the first."""
    if not activation_energy > 0:
        raise ValueError("the activation energy must be positive")
    step, mean = _intervals(hours, temperature_c)
    if np.any(mean <= -KELVIN):
        raise ValueError("temperatures must be above absolute zero")
    factor = age_factor(mean, activation_energy=activation_energy, reference_c=reference_c)
    return _running(factor * step, step, max_gap_hours)


def t_quantile(probability: float, dof: int) -> float:
    """Student's t quantile: exact for 1 and 2 degrees of freedom, else the Cornish-Fisher
    expansion about the normal's (from 3 on, within 0.001 of the tables for a 90 %
    interval's 0.95 and 0.004 for a 95 % interval's 0.975)."""
    if not 0.0 < probability < 1.0 or dof < 1:
        raise ValueError("a probability in (0, 1) and at least one degree of freedom")
    if dof == 1:
        return math.tan(math.pi * (probability - 0.5))
    if dof == 2:
        return (2.0 * probability - 1.0) / math.sqrt(2.0 * probability * (1.0 - probability))
    z = NormalDist().inv_cdf(probability)
    n = float(dof)
    return (z + (z**3 + z) / (4 * n) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * n**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * n**3)
            + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * n**4))


@dataclass(frozen=True, slots=True)
class BreakScatter:
    """How the breaks a logarithmic curve was fitted from lie about it: their number, the
    residual standard deviation (MPa, on ``count - 2`` degrees of freedom), and the mean
    and the sum of squared deviations of their log10 maturities."""

    count: int
    residual_sd: float
    log_mean: float
    log_spread: float

    def half_width(self, log_maturity: NDArray[np.float64], coverage: float
                   ) -> NDArray[np.float64]:
        """Half the prediction interval of one more specimen's strength at these log10
        maturities."""
        t = t_quantile(0.5 + coverage / 2.0, self.count - 2)
        leverage = 1.0 / self.count + (log_maturity - self.log_mean) ** 2 / self.log_spread
        width: NDArray[np.float64] = t * self.residual_sd * np.sqrt(1.0 + leverage)
        return width


@dataclass(frozen=True, slots=True)
class LogarithmicCurve:
    """``S = a + b·log10(M)``, never below 0: the usual fit of breaks at a few ages."""

    a: float
    b: float
    scatter: BreakScatter | None = None

    def strength(self, maturity: ArrayLike) -> NDArray[np.float64]:
        m = np.asarray(maturity, dtype=np.float64)
        with np.errstate(divide="ignore"):
            value = self.a + self.b * np.log10(np.where(m > 0, m, 0.0))
        return np.where(m > 0, np.maximum(value, 0.0), 0.0)

    def maturity_for(self, strength: float) -> float:
        """The maturity at which the curve reaches ``strength`` (inf: never)."""
        if self.b <= 0:
            return math.inf
        exponent = (strength - self.a) / self.b
        return math.inf if exponent > 300 else float(10.0**exponent)

    def interval(self, maturity: ArrayLike, coverage: float = COVERAGE
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """The strength at each maturity with a ``coverage`` prediction interval, low and
        high (never below 0); None without the breaks' scatter."""
        if self.scatter is None:
            return None
        m = np.asarray(maturity, dtype=np.float64)
        with np.errstate(divide="ignore"):
            x = np.log10(np.where(m > 0, m, np.nan))
        centre = self.a + self.b * x
        half = self.scatter.half_width(x, coverage)
        low = np.where(m > 0, np.maximum(centre - half, 0.0), 0.0)
        high = np.where(m > 0, np.maximum(centre + half, 0.0), 0.0)
        return low, high

    def maturity_interval(self, strength: float, coverage: float = COVERAGE
                          ) -> tuple[float, float] | None:
        """The maturities at which the interval's high and low edges reach ``strength``:
        the earliest and the latest it is reached, as sure as ``coverage`` (inf: never
        within 10⁶ times the breaks' span); None without the breaks' scatter."""
        if self.scatter is None or self.b <= 0:
            return None
        centre = math.log10(self.maturity_for(strength)) if math.isfinite(
            self.maturity_for(strength)) else 300.0
        # The edges are monotone where they matter (b > 0 dominates the leverage's bend
        # near the breaks); found on a fine grid of log10 maturities around the centre.
        grid = centre + np.linspace(-6.0, 6.0, 4801)
        level = self.a + self.b * grid
        half = self.scatter.half_width(grid, coverage)
        edges = []
        for edge in (level + half, level - half):
            above = np.flatnonzero(edge >= strength)
            if above.size == 0:
                edges.append(math.inf)
                continue
            k = int(above[0])
            x = grid[k]
            if k > 0:  # between the grid's points, along the edge's chord
                x = grid[k - 1] + (strength - edge[k - 1]) / (edge[k] - edge[k - 1]) * (
                    grid[k] - grid[k - 1])
            edges.append(float(10.0**x))
        return edges[0], edges[1]


@dataclass(frozen=True, slots=True)
class HyperbolicCurve:
    """``S = S_u·k(M - M_0) / (1 + k(M - M_0))`` for ``M > M_0``, else 0: strength tends
    to ``ultimate``; ``rate`` is k (per unit of the index), ``offset`` M_0 (when strength
    begins to develop)."""

    ultimate: float
    rate: float
    offset: float = 0.0

    def strength(self, maturity: ArrayLike) -> NDArray[np.float64]:
        x = self.rate * (np.asarray(maturity, dtype=np.float64) - self.offset)
        x = np.maximum(x, 0.0)
        # A rate so large that k(M - M_0) overflows is strength at its ultimate, not
        # inf / inf.
        with np.errstate(invalid="ignore"):
            value: NDArray[np.float64] = np.where(
                np.isinf(x), self.ultimate, self.ultimate * x / (1.0 + x))
        return value

    def maturity_for(self, strength: float) -> float:
        if strength >= self.ultimate or self.rate <= 0:
            return math.inf
        if strength <= 0:
            return self.offset
        return self.offset + strength / (self.rate * (self.ultimate - strength))


Curve = LogarithmicCurve | HyperbolicCurve


def fit_logarithmic(maturity: ArrayLike, strength: ArrayLike) -> LogarithmicCurve:
    """Least-squares ``a`` and ``b`` of ``S = a + b·log10(M)`` from a mix's breaks
    (maturity of each cylinder when broken, and its strength)."""
    m = np.asarray(maturity, dtype=np.float64)
    s = np.asarray(strength, dtype=np.float64)
    if m.shape != s.shape or m.ndim != 1 or m.shape[0] < 2:
        raise ValueError("at least two breaks, each a maturity and a strength")
    if np.any(m <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("break maturities must be positive and strengths finite")
    x = np.log10(m)
    if np.ptp(x) == 0:
        raise ValueError("the breaks must be at more than one maturity")
    b, a = np.polyfit(x, s, 1)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("the breaks are too large to fit a curve to")
    # A curve along which strength does not grow (breaks that fall, or all alike) would
    # never reach a requirement above its breaks and would read as reached below them.
    if not b * np.ptp(x) > 1e-9 * max(1.0, float(np.max(np.abs(s)))):
        raise ValueError("strength must grow with maturity: these breaks fit a curve "
                         f"whose strength does not (b = {b:.4g} MPa a decade)")
    scatter = None
    if m.shape[0] >= 3:
        residual = s - (a + b * x)
        scatter = BreakScatter(int(m.shape[0]),
                               float(np.sqrt(np.sum(residual**2) / (m.shape[0] - 2))),
                               float(x.mean()), float(np.sum((x - x.mean()) ** 2)))
    return LogarithmicCurve(float(a), float(b), scatter)
