"""Physical models of what the twin watches, pure (no I/O): for now concrete maturity
(``maturity``), which turns a slab's temperatures into strength."""

from .maturity import (
    HyperbolicCurve,
    LogarithmicCurve,
    equivalent_age,
    fit_logarithmic,
    temperature_time_factor,
)

__all__ = [
    "HyperbolicCurve",
    "LogarithmicCurve",
    "equivalent_age",
    "fit_logarithmic",
    "temperature_time_factor",
]
