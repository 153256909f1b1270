"""Physical models of what the twin watches and the estimators that calibrate them, pure
(no I/O): concrete maturity (``maturity``), which turns a slab's temperatures into strength;
the model contract (``contract``); the Kalman filters (``kalman``, ``ukf``) and recursive
least squares (``rls``), each vectorised over a batch of elements, with their innovation
gate (``gate``); the local level / trend model every property has (``level``) and the RC
thermal zone (``thermal``); divergence detectors on normalised residuals (``divergence``,
measured by ``runlength``) and recalibration over a recent window (``recalibrate``); and
the fleet's live level/trend tracker with its divergence and recalibration, one record a
sensor (``tracker``), which the reading path runs."""

from .contract import NotPositiveDefinite, StateModel
from .divergence import Cusum, Divergence, PageHinkley
from .gate import Gate
from .kalman import ExtendedKalmanFilter, Innovation, KalmanFilter
from .level import Forecast, LocalTrend, Track
from .maturity import (
    HyperbolicCurve,
    LogarithmicCurve,
    equivalent_age,
    fit_logarithmic,
    temperature_time_factor,
)
from .recalibrate import Recalibration, recalibrate
from .rls import RecursiveLeastSquares
from .thermal import HeatGainZone, ThermalZone
from .tracker import LevelTrendTracker, TrackUpdate
from .ukf import MerweWeights, UnscentedKalmanFilter

__all__ = [
    "Cusum",
    "Divergence",
    "ExtendedKalmanFilter",
    "Forecast",
    "Gate",
    "HeatGainZone",
    "HyperbolicCurve",
    "Innovation",
    "KalmanFilter",
    "LevelTrendTracker",
    "LocalTrend",
    "LogarithmicCurve",
    "MerweWeights",
    "NotPositiveDefinite",
    "PageHinkley",
    "Recalibration",
    "RecursiveLeastSquares",
    "StateModel",
    "ThermalZone",
    "Track",
    "TrackUpdate",
    "UnscentedKalmanFilter",
    "equivalent_age",
    "fit_logarithmic",
    "recalibrate",
    "temperature_time_factor",
]
