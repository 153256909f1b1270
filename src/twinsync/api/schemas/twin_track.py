"""What the twin's look-back routes answer: a property's sensors with each reading beside
its one-step prediction and interval, with their divergence spans
(``service/twin_track.py``), and every element's model state (``service/twin_fleet.py``)."""

from __future__ import annotations

from pydantic import BaseModel


class DivergenceSpanOut(BaseModel):
    """One divergence of the live model: from its change point (``start``) to the clearing
    of its alarm (``end``, null while not cleared); when it was raised, which way and how
    far (in the unit and in standard deviations of the prediction)."""

    start: float
    end: float | None
    raised_at: float
    direction: str | None
    size: float | None
    size_sd: float | None


class SensorTrackOut(BaseModel):
    """One sensor over the range, as columns (entry k of each is one reading, or one
    bucket with ``every``): ``time``, the measured ``value`` (the mean of a bucket, with
    ``min``, ``max`` and ``count``), the one-step ``predicted`` value and the interval
    ``low`` to ``high`` (null where the model was warming up); raw readings also give ``sd``
    (a trusted reading's standard deviation about the prediction) and ``normalised`` (the
    residual as the model judged it). ``lead_readings`` were run before the range (from
    ``lead_from``) and not answered; the first ``warming_up`` readings of the range have
    no prediction yet (``predicted_from`` is the first that has)."""

    sensor_id: str
    unit: str
    readings: int
    lead_readings: int
    lead_from: float | None
    warming_up: int
    predicted_from: float | None
    time: list[float]
    value: list[float | None]
    predicted: list[float | None]
    low: list[float | None]
    high: list[float | None]
    sd: list[float | None] | None = None
    normalised: list[float | None] | None = None
    min: list[float | None] | None = None
    max: list[float | None] | None = None
    count: list[int] | None = None
    divergences: list[DivergenceSpanOut]


class PropertyTrackOut(BaseModel):
    """An element's property over [``start``, ``end``): each sensor feeding it, the
    interval's ``coverage``, ``every`` (null: raw readings) and whether every stored
    divergence event was read for the spans (``spans_complete``)."""

    element_id: str
    property: str
    start: float
    end: float
    every: float | None
    coverage: float
    sensors: list[SensorTrackOut]
    spans_complete: bool


class FleetStatesOut(BaseModel):
    """Every element with a modelled sensor, as columns: its ``state`` (its sensors'
    worst, of ``states`` from best to worst: off, learning, in_control, diverging), how
    many ``sensors`` it has modelled and how many are ``diverging``, and ``since`` when
    the first of those diverged; ``counts`` of elements by state."""

    enabled: bool
    states: list[str]
    element_id: list[str]
    state: list[str]
    sensors: list[int]
    diverging: list[int]
    since: list[float | None]
    counts: dict[str, int]
