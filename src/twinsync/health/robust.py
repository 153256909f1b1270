"""Small robust statistics over rows of a 2-D array, NaN meaning "no value".

NumPy's ``nanmedian`` goes through masked arrays for short rows; sorting once (NaN sorts
last) and picking the middle is several times faster and gives the same numbers.

>>> rows_nanmedian(np.array([[3.0, np.nan, 1.0, 2.0], [np.nan, np.nan, np.nan, np.nan]]))
array([ 2., nan])
>>> hours = np.array([[0.0, 1.0, 2.0, 3.0, 4.0]]) * 3600
>>> fit = local_quadratic(hours ** 2 / 3600 ** 2, hours, np.array([5 * 3600.0]))
>>> [round(float(part[0]), 6) for part in fit]
[25.0, 0.002778, 0.0, 4.6]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: MAD to standard deviation for Gaussian noise.
MAD_TO_SD = 1.4826


def rows_nanmedian(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Median of each row ignoring NaN; NaN for a row without values."""
    if values.shape[1] == 0:
        return np.full(values.shape[0], np.nan)
    ordered = np.sort(values, axis=1)
    valid = np.sum(~np.isnan(values), axis=1)
    low = np.maximum((valid - 1) // 2, 0)
    high = np.maximum(valid // 2, 0)
    picked = np.arange(values.shape[0])
    median: NDArray[np.float64] = 0.5 * (ordered[picked, low] + ordered[picked, high])
    median[valid == 0] = np.nan
    return median


def local_quadratic(values: NDArray[np.float64], times: NDArray[np.float64],
                    at: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                      NDArray[np.float64], NDArray[np.float64]]:
    """Quadratic through each row's points (NaN: absent), evaluated at ``at``.

    Returns (value at ``at``, slope per second there, median absolute deviation of the
    points from the curve, leverage at ``at``). The leverage says how much noisier the
    prediction is than one reading: a prediction error has variance (1 + leverage) sd^2.

    A rolling median lags a daily cycle by half its window and a straight line misses its
    curvature by more than a good sensor's noise; a quadratic over two hours does neither.
    One trimming pass drops points more than 3 robust sd off the first fit, so an outlier
    that slipped into the window does not bend the curve.
    """
    present = ~np.isnan(values)
    hours = np.where(present, (times - at[:, None]) / 3600.0, 0.0)
    y = np.where(present, values, 0.0)
    coef, leverage = _weighted_fit(hours, y, present.astype(np.float64))
    fitted = coef[:, 0:1] + coef[:, 1:2] * hours + coef[:, 2:3] * hours * hours
    deviation = np.where(present, np.abs(values - fitted), np.nan)
    mad = rows_nanmedian(deviation)
    keep = present & (deviation <= 3.0 * MAD_TO_SD * mad[:, None] + 1e-12)
    enough = keep.sum(axis=1) >= 4
    trimmed, trimmed_leverage = _weighted_fit(hours, y, keep.astype(np.float64))
    coef = np.where(enough[:, None], trimmed, coef)
    leverage = np.where(enough, trimmed_leverage, leverage)
    fitted = coef[:, 0:1] + coef[:, 1:2] * hours + coef[:, 2:3] * hours * hours
    mad = rows_nanmedian(np.where(present, np.abs(values - fitted), np.nan))
    return coef[:, 0], coef[:, 1] / 3600.0, mad, leverage


def _weighted_fit(hours: NDArray[np.float64], y: NDArray[np.float64],
                  weight: NDArray[np.float64]) -> tuple[NDArray[np.float64],
                                                        NDArray[np.float64]]:
    """Least-squares (a, b, c) of y = a + b h + c h^2 per row, by the normal equations,
    and the leverage of h = 0 (the first diagonal entry of the inverse Gram matrix)."""
    h1 = hours * weight
    h2 = h1 * hours
    s0, s1, s2 = weight.sum(1), h1.sum(1), h2.sum(1)
    s3, s4 = (h2 * hours).sum(1), (h2 * hours * hours).sum(1)
    gram = np.stack([np.stack([s0, s1, s2], -1), np.stack([s1, s2, s3], -1),
                     np.stack([s2, s3, s4], -1)], -2)
    moments = np.stack([(weight * y).sum(1), (h1 * y).sum(1), (h2 * y).sum(1),
                        np.ones_like(s0), np.zeros_like(s0), np.zeros_like(s0)], -1)
    moments = moments.reshape(-1, 2, 3).transpose(0, 2, 1)
    # A tiny ridge keeps a window of nearly equal times solvable; it does not move a fit.
    gram += np.eye(3) * 1e-9
    solved = np.linalg.solve(gram, moments)
    coef: NDArray[np.float64] = solved[:, :, 0]
    leverage: NDArray[np.float64] = solved[:, 0, 1]
    return coef, leverage
