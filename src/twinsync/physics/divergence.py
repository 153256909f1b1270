"""Divergence between the twin and reality: change detectors on normalised residuals.

Every prediction the twin makes is compared with the reading; the residual divided by the
prediction's standard deviation (``Innovation.normalised``, ``Track.normalised``) is N(0, 1)
while the model fits. A detector here watches those numbers for every element of a batch at
once (one array per quantity, never an object per element) and says, per element, whether
the twin is *diverging*: a sustained bias, not one far reading (that is the gate's).

- ``Cusum``: Page's two-sided cumulative sum, ``U ← max(0, U + z - k)``,
  ``L ← max(0, L - z - k)``, statistic ``max(U, L)``. ``k`` (the reference, in standard
  deviations) is half the shift it is tuned for; ``h`` (the threshold) trades false alarms
  against delay.
- ``PageHinkley``: the same sums on ``z`` minus its running mean (Page-Hinkley as streaming
  libraries use it), for residuals whose bias in good times is not known to be zero; it
  learns that bias, and so reacts to a *change* of bias only after ``warmup`` readings.

Both give, per element and reading: the statistic, the state (diverging or not) and the
transitions (``started``, ``ended``). The state has hysteresis: a divergence starts when the
statistic passes ``threshold`` and ends only when it has fallen to ``release`` (default
half the threshold); the sums are capped at ``ceiling`` (default twice the threshold) so
that a long divergence ends within about ``(ceiling - release) / k`` readings of reality
and twin agreeing again. A NaN residual (a gap) leaves an element as it was. A residual
counts at most ``limit`` (default 4) standard deviations: one far reading is the innovation
gate's business and must not start a divergence alone (with the defaults it takes three in
a row, 3 * 3.5 > 9), while the false-alarm rate hardly moves (|z| > 4 has odds of 6e-5).

State is plain arrays: ``save()`` gives them, ``restore()`` takes them back (for a restart,
or to keep only some elements), ``reset(elements)`` starts the chosen elements afresh (after
a recalibration). The defaults (``k = 0.5``, ``h = 9``) are chosen in docs/PHYSICS.md from
the measured false-alarm run length and delay (``twinsync bench twin``).

>>> cusum = Cusum(reference=0.5, threshold=2.0)
>>> [bool(cusum.update(np.array([z])).started[0]) for z in (1.5, 1.5, 1.5)]
[False, False, True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contract import Array, Flags

#: Defaults: k tuned for a shift of one standard deviation (half of it), h for a false
#: alarm about every 26,000 readings of a model that fits (docs/PHYSICS.md).
REFERENCE = 0.5
THRESHOLD = 9.0


@dataclass(frozen=True, slots=True)
class Divergence:
    """Per element (``(B,)``, or ``(B, T)`` from ``update_many``): the detector's statistic,
    whether the element is diverging, and whether a divergence started or ended here."""

    statistic: Array
    diverging: Flags
    started: Flags
    ended: Flags


class _Detector:
    """The hysteresis, state keeping and batch loop both detectors share; a subclass says
    how its sums move (``_advance``) and what they are (``_fields``)."""

    _fields: tuple[str, ...] = ()

    def __init__(
        self,
        reference: float,
        threshold: float,
        release: float | None,
        ceiling: float | None,
        limit: float,
    ) -> None:
        if reference < 0 or threshold <= 0 or limit <= reference:
            raise ValueError(
                "the reference must be non-negative, the threshold positive, the limit above"
                " the reference"
            )
        self.limit = limit
        self.reference = reference
        self.threshold = threshold
        self.release = threshold / 2.0 if release is None else release
        self.ceiling = 2.0 * threshold if ceiling is None else ceiling
        if not 0.0 <= self.release < threshold < self.ceiling:
            raise ValueError("need 0 <= release < threshold < ceiling")
        self._state: dict[str, Array] | None = None

    # -- what a subclass provides
    def _fresh(self, batch: int) -> dict[str, Array]:
        return {name: np.zeros(batch) for name in self._fields}

    def _advance(self, state: dict[str, Array], z: Array, seen: Flags) -> Array:
        raise NotImplementedError

    # -- the shared part
    def update(self, normalised: Array) -> Divergence:
        """One normalised residual per element ``(B,)`` (NaN: none this time)."""
        z = np.asarray(normalised, dtype=np.float64)
        if z.ndim != 1:
            raise ValueError(f"normalised residuals must be (elements,), got {z.shape}")
        if self._state is None:
            self._state = {"diverging": np.zeros(z.shape[0]), **self._fresh(z.shape[0])}
        state = self._state
        if state["diverging"].shape != z.shape:
            raise ValueError(f"this detector watches {state['diverging'].shape[0]} elements")
        seen = np.isfinite(z)
        clipped = np.clip(np.where(seen, z, 0.0), -self.limit, self.limit)
        statistic = self._advance(state, clipped, seen)
        was = state["diverging"] > 0
        diverging = np.where(was, statistic > self.release, statistic > self.threshold)
        state["diverging"] = diverging.astype(np.float64)
        return Divergence(statistic, diverging, diverging & ~was, was & ~diverging)

    def update_many(self, normalised: Array) -> Divergence:
        """``update`` over the columns of ``(B, T)`` in order; every field is ``(B, T)``."""
        block = np.asarray(normalised, dtype=np.float64)
        if block.ndim != 2:
            raise ValueError(f"normalised residuals must be (elements, times), got {block.shape}")
        steps = [self.update(block[:, t]) for t in range(block.shape[1])]
        return Divergence(
            np.stack([s.statistic for s in steps], axis=1),
            np.stack([s.diverging for s in steps], axis=1),
            np.stack([s.started for s in steps], axis=1),
            np.stack([s.ended for s in steps], axis=1),
        )

    @property
    def diverging(self) -> Flags:
        """Which elements are diverging now (none before the first update)."""
        if self._state is None:
            return np.zeros(0, dtype=bool)
        flags: Flags = self._state["diverging"] > 0
        return flags

    def save(self) -> dict[str, Array]:
        """The detector's state as plain arrays (copies), one entry per element each."""
        return {} if self._state is None else {k: v.copy() for k, v in self._state.items()}

    def restore(self, saved: dict[str, Array]) -> None:
        """Take back what ``save`` gave (of the same or another detector with the same
        settings), or a selection of its elements."""
        names = {"diverging", *self._fields}
        if set(saved) != names:
            raise ValueError(f"a saved state has {sorted(names)}, got {sorted(saved)}")
        sizes = {np.asarray(v).shape for v in saved.values()}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError("every saved array must be (elements,) of one length")
        self._state = {k: np.array(v, dtype=np.float64) for k, v in saved.items()}

    def reset(self, elements: Flags) -> None:
        """Start the chosen elements afresh (not diverging, sums at zero)."""
        if self._state is None:
            return
        chosen = np.asarray(elements, dtype=bool)
        fresh = self._fresh(int(chosen.sum()))
        self._state["diverging"][chosen] = 0.0
        for name, value in fresh.items():
            self._state[name][chosen] = value


class Cusum(_Detector):
    """Two-sided CUSUM over a batch of elements: ``reference`` k and ``threshold`` h in
    standard deviations of the normalised residual."""

    _fields = ("upper", "lower")

    def __init__(
        self,
        reference: float = REFERENCE,
        threshold: float = THRESHOLD,
        release: float | None = None,
        ceiling: float | None = None,
        limit: float = 4.0,
    ) -> None:
        super().__init__(reference, threshold, release, ceiling, limit)

    def _advance(self, state: dict[str, Array], z: Array, seen: Flags) -> Array:
        k, top = self.reference, self.ceiling
        upper = np.clip(state["upper"] + z - k, 0.0, top)
        lower = np.clip(state["lower"] - z - k, 0.0, top)
        state["upper"] = np.where(seen, upper, state["upper"])
        state["lower"] = np.where(seen, lower, state["lower"])
        statistic: Array = np.maximum(state["upper"], state["lower"])
        return statistic


class PageHinkley(_Detector):
    """Page-Hinkley over a batch: the CUSUM's sums on ``z`` less its running mean, ``delta``
    the tolerated change (as CUSUM's k), ``threshold`` λ; no alarm before ``warmup``
    readings of an element (its mean is not yet known)."""

    _fields = ("count", "mean", "up", "up_min", "down", "down_min")

    def __init__(
        self,
        delta: float = REFERENCE,
        threshold: float = THRESHOLD,
        release: float | None = None,
        ceiling: float | None = None,
        limit: float = 4.0,
        warmup: int = 30,
    ) -> None:
        super().__init__(delta, threshold, release, ceiling, limit)
        self.warmup = warmup

    def _advance(self, state: dict[str, Array], z: Array, seen: Flags) -> Array:
        count = state["count"] + seen
        mean = state["mean"] + np.where(seen, (z - state["mean"]) / np.maximum(count, 1.0), 0.0)
        deviation = np.where(seen, z - mean, 0.0)
        step = np.where(seen, self.reference, 0.0)
        # the sums start once the mean is known: before, they would carry its early error
        learning = count < self.warmup
        up = np.where(learning, 0.0, state["up"] + deviation - step)
        down = np.where(learning, 0.0, state["down"] - deviation - step)
        # the minimum raised to keep each statistic at most the ceiling
        up_min = np.maximum(np.minimum(state["up_min"], up), up - self.ceiling)
        down_min = np.maximum(np.minimum(state["down_min"], down), down - self.ceiling)
        state.update(count=count, mean=mean, up=up, up_min=up_min, down=down, down_min=down_min)
        statistic: Array = np.maximum(up - up_min, down - down_min)
        return statistic
