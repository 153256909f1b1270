"""Noise and spikes in context: the sensor's character and what its peers did, compiled
(called by the kernel once per reading).

A change the whole peer group makes is the process, not the sensor: a heating switch-on,
a door opening, the start of work on a vibration gauge. Each sensor is therefore judged on
what is its own: its step against the peers' robust consensus (the median of their trusted
readings, offsets taken off, see ``peers.peer_view``) as well as its own step, and noise
evidence is the smaller of the two. A sensor whose own noise grew shows it in both; a
transient the group shares shows in the first only.

A sensor also has a character. ``SMOOTH`` sensors (temperatures, strain) move by little
between readings; ``BURSTY`` ones (an RMS of vibration, a door contact) move by jumps
as their normal behaviour, with a heavy-tailed step distribution. Vibration RMS is
declared ``RELATIVE`` (bursty, and its noise grows with its level, so its steps are
judged relative to the level); the others are learned all along from the tail of their
ordinary steps (``is_bursty``: the share of steps beyond 3 sd). A bursty sensor is noisy
only when the evidence holds ``bursty_noise_h`` times as long.

>>> character_of_kind("vibration"), character_of_kind("temperature")
(3, 0)
"""

from __future__ import annotations

import math

from ._jit import compiled

#: Character codes (``HealthTable.character``). ``LEARN``: decided at the end of warm-up.
LEARN, SMOOTH, BURSTY, RELATIVE = 0, 1, 2, 3

#: Sensor kinds whose character is known without learning it.
_DECLARED = {"vibration": RELATIVE, "vibration_rms": RELATIVE}


def character_of_kind(kind: str) -> int:
    """The declared character of a sensor kind; ``LEARN`` when it is not obvious."""
    return _DECLARED.get(kind.strip().lower(), LEARN)


@compiled
def is_bursty(character: int, tail: float, tail_share: float) -> bool:
    """Declared bursty, or (character to be learned) more than ``tail_share`` of its
    ordinary steps beyond 3 sd (0.27 % for Gaussian steps)."""
    if character >= BURSTY:  # BURSTY or RELATIVE
        return True
    return character == LEARN and tail > tail_share


@compiled
def relative_step(step: float, last: float, resolution: float) -> float:
    """A step relative to the level it started from. An RMS is never below 0 and its noise
    grows with its level; the floor of two resolutions keeps a quiet gauge's quantised
    background from making every step huge."""
    return step / max(abs(last), 2.0 * resolution, 1e-12)


@compiled
def relative_bound(bound: float, residual: float, prediction: float, rel_step_var: float,
                   resolution: float, width: float) -> float:
    """How far above its prediction a reading of a gauge whose noise is a factor on its
    level (``RELATIVE``) must lie to be far off: ``bound`` (its scale in the property's
    unit, ``width`` times), or ``width`` of its noise's log sd up, whichever is wider.

    A factor is skewed upwards. At a relative sd of 0.15, 4.5 sd taken as a normal's
    put the line at 1.68 times the prediction, which log-normal noise passes at 3.4 sd of
    its log: 3 readings of a healthy gauge in 10,000, and a one-minute gauge reads 600 a
    working day. 4.5 sd of the log is 1.96 times. Below the prediction the normal's line
    is the wider already. The level has the floor of ``relative_step``.
    """
    if not (residual > 0.0 and rel_step_var > 0.0 and math.isfinite(prediction)):
        return bound
    # Half the relative step variance is one reading's; as a log-normal's log sd:
    log_sd = math.sqrt(math.log1p(0.5 * rel_step_var))
    level = max(abs(prediction), 2.0 * resolution)
    return max(bound, math.expm1(width * log_sd) * level)


@compiled
def peer_step(value: float, reference: float, last_residual: float) -> float:
    """The change of the residual against the peers since the last trusted reading (NaN
    when either residual is unknown)."""
    if not (math.isfinite(reference) and math.isfinite(last_residual)):
        return math.nan
    return (value - reference) - last_residual


@compiled
def shared_with_peers(value: float, reference: float, offset: float, diff_sd: float,
                      residual: float, known: bool, k: float, share: float) -> bool:
    """The peers' consensus moved with the reading: its difference to them (the usual
    offset taken off) is within ``k`` difference sd, or within ``share`` of its own
    residual (a group's sensors see a transient by their own factors, 0.8-1.1 of it, so
    the peers explain most of the move, not all), or the peers put it beyond the reading,
    on the same side of the sensor's own prediction (the reading lies between the two: it
    is the prediction that is off, a curve fitted through readings in steps of a
    resolution bending away from where the slab went). Such a reading is no outlier, no
    spike."""
    if not known or not math.isfinite(reference):
        return False
    apart = value - reference - offset
    if abs(apart) <= k * diff_sd:
        return True
    return math.isfinite(residual) and (abs(apart) <= share * abs(residual)
                                        or apart * residual < 0.0)


@compiled
def peers_moved_with(value: float, reference: float, offset: float, prediction: float,
                     share: float) -> bool:
    """The peers' consensus (the sensor's usual offset added) has left the sensor's own
    prediction towards ``value`` by at least ``share`` of the reading's own departure from
    it: the peers explain that much of the move. Unlike ``shared_with_peers`` there is no
    band of difference sd: a reading that came back within the peers' band has not shown
    that they moved."""
    if not (math.isfinite(reference) and math.isfinite(prediction)):
        return False
    own = value - prediction
    moved = reference + offset - prediction
    return moved * own > 0.0 and abs(moved) >= share * abs(own)


@compiled
def evidence_z2(own_z2: float, peer_z2: float) -> float:
    """Noise evidence: the smaller of the own and the peer-residual step's z², where the
    latter is known (a shared transient is small against the peers, a noisy sensor is
    large in both)."""
    if math.isfinite(peer_z2):
        return min(own_z2, peer_z2)
    return own_z2
