"""Small robust statistics over one sensor's window, compiled: a median of the values
present, NumPy's pairwise sum, and the local quadratic fit.

The sums add in the same order as NumPy's ``sum`` over a short row (eight running totals
from eight values on), so a fit here gives the numbers the vectorised fit gave.

>>> hours = np.array([0.0, 1.0, 2.0, 3.0, 4.0]) * 3600
>>> fit = local_quadratic(hours ** 2 / 3600 ** 2, hours, 5 * 3600.0)
>>> [round(part, 6) for part in fit]
[25.0, 0.002778, 0.0, 4.6]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._jit import compiled

#: MAD to standard deviation for Gaussian noise.
MAD_TO_SD = 1.4826

#: The ridge on the curvature that makes a fit straight, relative to the Gram matrix's own
#: terms: large enough that the curvature is nought to the last digit of a reading, small
#: enough that the elimination keeps the other terms' digits.
STRAIGHT_RIDGE = 1e8


@compiled
def pairwise_sum(values: NDArray[np.float64], n: int) -> float:
    """Sum of ``values[:n]`` in NumPy's order (``n`` up to 128, one pairwise block)."""
    if n < 8:
        total = 0.0
        for i in range(n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[0], values[1], values[2], values[3]
    r4, r5, r6, r7 = values[4], values[5], values[6], values[7]
    whole = n - n % 8
    for i in range(8, whole, 8):
        r0 += values[i]
        r1 += values[i + 1]
        r2 += values[i + 2]
        r3 += values[i + 3]
        r4 += values[i + 4]
        r5 += values[i + 5]
        r6 += values[i + 6]
        r7 += values[i + 7]
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(whole, n):
        total += values[i]
    return float(total)


@compiled
def median_of(values: NDArray[np.float64], n: int) -> float:
    """Median of ``values[:n]`` (all finite), sorting them in place; NaN when ``n`` is 0."""
    if n == 0:
        return np.nan
    for i in range(1, n):
        value = values[i]
        j = i - 1
        while j >= 0 and values[j] > value:
            values[j + 1] = values[j]
            j -= 1
        values[j + 1] = value
    return float(0.5 * (values[(n - 1) // 2] + values[n // 2]))


@compiled
def _dot(a: NDArray[np.float64], b: NDArray[np.float64], products: NDArray[np.float64],
         n: int) -> float:
    """``pairwise_sum`` of ``a[:n] * b[:n]``, formed in ``products``."""
    for i in range(n):
        products[i] = a[i] * b[i]
    return pairwise_sum(products, n)


@compiled
def _scale(values: NDArray[np.float64], by: NDArray[np.float64], n: int) -> None:
    for i in range(n):
        values[i] *= by[i]


@compiled
def _weighted_fit(hours: NDArray[np.float64], y: NDArray[np.float64],
                  weight: NDArray[np.float64], work: NDArray[np.float64],
                  n: int, straight: bool) -> tuple[float, float, float, float]:
    """Least-squares (a, b, c) of y = a + b h + c h^2 by the normal equations, and the
    leverage of h = 0 (the first diagonal entry of the inverse Gram matrix). ``straight``:
    c is held at 0 (a ridge on it that outweighs any data), so it is the line's fit and
    the line's leverage."""
    # weight h^k for k = 0..4, each a multiple of the last; products has room until the
    # Gram matrix is formed. (h w is w h exactly, so each sum is the one of h w h ... h.)
    power, products = work[0], work[1]
    for i in range(n):
        power[i] = weight[i]
    s0, m0 = pairwise_sum(power, n), _dot(power, y, products, n)
    _scale(power, hours, n)
    s1, m1 = pairwise_sum(power, n), _dot(power, y, products, n)
    _scale(power, hours, n)
    s2, m2 = pairwise_sum(power, n), _dot(power, y, products, n)
    _scale(power, hours, n)
    s3 = pairwise_sum(power, n)
    _scale(power, hours, n)
    s4 = pairwise_sum(power, n)
    # A tiny ridge keeps a window of nearly equal times solvable; it does not move a fit.
    gram = work[1, :9].reshape(3, 3)
    gram[0, 0], gram[0, 1], gram[0, 2] = s0 + 1e-9, s1, s2
    gram[1, 0], gram[1, 1], gram[1, 2] = s1, s2 + 1e-9, s3
    gram[2, 0], gram[2, 1], gram[2, 2] = s2, s3, s4 + (STRAIGHT_RIDGE * (s0 + s4) if straight
                                                       else 1e-9)
    rhs = work[2, :6].reshape(3, 2)
    rhs[0, 0], rhs[1, 0], rhs[2, 0] = m0, m1, m2
    rhs[0, 1], rhs[1, 1], rhs[2, 1] = 1.0, 0.0, 0.0
    # Gaussian elimination with partial pivoting, as LAPACK's solver does.
    for col in range(3):
        pivot = col
        for r in range(col + 1, 3):
            if abs(gram[r, col]) > abs(gram[pivot, col]):
                pivot = r
        if pivot != col:
            for c in range(3):
                gram[col, c], gram[pivot, c] = gram[pivot, c], gram[col, c]
            for c in range(2):
                rhs[col, c], rhs[pivot, c] = rhs[pivot, c], rhs[col, c]
        inverse = 1.0 / gram[col, col]
        for r in range(col + 1, 3):
            factor = gram[r, col] * inverse
            for c in range(col + 1, 3):
                gram[r, c] -= factor * gram[col, c]
            for c in range(2):
                rhs[r, c] -= factor * rhs[col, c]
    for c in range(2):
        for r in range(2, -1, -1):
            total = rhs[r, c]
            for k in range(r + 1, 3):
                total -= gram[r, k] * rhs[k, c]
            rhs[r, c] = total / gram[r, r]
    return rhs[0, 0], rhs[1, 0], rhs[2, 0], rhs[0, 1]


@compiled
def fit_window(values: NDArray[np.float64], times: NDArray[np.float64],
               present: NDArray[np.bool_], at: float, work: NDArray[np.float64],
               straight: bool = False) -> tuple[float, float, float, float, float]:
    """Quadratic through the window's present points, evaluated at ``at``; a straight line
    with ``straight``.

    Returns (value at ``at``, slope per second there, median absolute deviation of the
    points from the curve, leverage at ``at``, curvature: the coefficient of the squared
    time in seconds). The leverage says how much noisier the
    prediction is than one reading: a prediction error has variance (1 + leverage) sd^2.
    ``work`` is scratch space, at least [7, max(window, 9)].

    A rolling median lags a daily cycle by half its window and a straight line misses its
    curvature by more than a good sensor's noise; a quadratic over two hours does neither.
    One trimming pass drops points more than 3 robust sd off the first fit, so an outlier
    that slipped into the window does not bend the curve.

    Carried far past its points a quadratic runs away: while readings are held as
    outliers, ``at`` moves on and the window does not, and after four held readings of a
    burst the curve of the two hours before it said a strain gauge should read 80 µε
    below where it came back to (the return was taken for more of the burst). A line
    carried as far stays near the level; the caller asks for one then.
    """
    n = values.shape[0]
    hours, y, weight, deviation = work[3], work[4], work[5], work[6]
    for i in range(n):
        if present[i]:
            hours[i] = (times[i] - at) / 3600.0
            y[i] = values[i]
            weight[i] = 1.0
        else:
            hours[i] = 0.0
            y[i] = 0.0
            weight[i] = 0.0
    c0, c1, c2, leverage = _weighted_fit(hours, y, weight, work, n, straight)
    mad = _mad(values, present, hours, c0, c1, c2, deviation, n)
    limit = 3.0 * MAD_TO_SD * mad + 1e-12
    kept = 0
    for i in range(n):
        fitted = c0 + c1 * hours[i] + c2 * hours[i] * hours[i]
        keep = present[i] and abs(values[i] - fitted) <= limit
        weight[i] = 1.0 if keep else 0.0
        kept += keep
    if kept >= 4:
        c0, c1, c2, leverage = _weighted_fit(hours, y, weight, work, n, straight)
    mad = _mad(values, present, hours, c0, c1, c2, deviation, n)
    return c0, c1 / 3600.0, mad, leverage, c2 / 3600.0 ** 2


@compiled
def _mad(values: NDArray[np.float64], present: NDArray[np.bool_],
         hours: NDArray[np.float64], c0: float, c1: float, c2: float,
         deviation: NDArray[np.float64], n: int) -> float:
    found = 0
    for i in range(n):
        if present[i]:
            fitted = c0 + c1 * hours[i] + c2 * hours[i] * hours[i]
            deviation[found] = abs(values[i] - fitted)
            found += 1
    return median_of(deviation, found)


def local_quadratic(values: NDArray[np.float64], times: NDArray[np.float64],
                    at: float, straight: bool = False) -> tuple[float, float, float, float]:
    """``fit_window`` over one window (NaN: absent), for callers outside the kernel."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    times = np.ascontiguousarray(times, dtype=np.float64)
    work = np.empty((7, max(values.shape[0], 9)))
    level, slope, mad, leverage, _ = fit_window(values, times, ~np.isnan(values), float(at),
                                                work, straight)
    return float(level), float(slope), float(mad), float(leverage)
