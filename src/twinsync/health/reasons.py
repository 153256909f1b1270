"""Short human sentences saying why a sensor is in its state.

Computed only for rows whose state changed or that someone asks about, never per reading.

>>> duration(11520.0), duration(900.0), duration(40.0), duration(3 * 86400.0)
('3.2 h', '15 min', '40 s', '3 days')
"""

from __future__ import annotations

import math

from .kernel import diff_sd_one, interval_one, resolution_one
from .params import HealthParams
from .peers import REF_MODEL
from .silence import clock_lag, hold_time, silence_knobs
from .states import State
from .table import HealthTable


def duration(seconds: float) -> str:
    """A duration the way people say it: 40 s, 15 min, 3.2 h, 3 days."""
    if not math.isfinite(seconds):
        return "an unknown time"
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        hours = seconds / 3600
        return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"
    days = seconds / 86400
    return f"{days:.0f} days" if days >= 10 or days == int(days) else f"{days:.1f} days"


def _amount(value: float, unit: str, signed: bool = False) -> str:
    text = f"{value:+.2g}" if signed else f"{value:.3g}"
    return f"{text} {unit}" if unit else text


_STATES = tuple(State)


def _silence(table: HealthTable, params: HealthParams, row: int, now: float) -> str:
    """Why a sensor is stale or offline: how long nothing has arrived, or, while its
    readings arrive again, the gaps that keep it named."""
    expect = float(table.expect[row])
    if not math.isfinite(expect):
        expect = interval_one(float(table.interval_given[row]), float(table.interval[row]))
    heard = float(table.heard[row])
    given = float(table.interval_given[row])
    # The promised interval while the learned cadence is about it (a high quantile of the
    # gaps sits a little above a steady interval); the cadence when deliveries set it.
    shown = given if given > 0 and expect < 1.25 * given else expect
    every = f"expected every {duration(shown)}"
    if not math.isfinite(heard):
        return f"no reading yet ({every})"
    at = now if math.isfinite(now) and now >= heard else heard
    silent = at - heard
    gaps = int(table.gaps[row])
    episode = float(table.gap_last[row]) >= heard - hold_time(silence_knobs(params), expect)
    plural = "" if gaps == 1 else "s"
    # Over the episode so far (its first silence to the arrival that ended its last gap):
    # numbers the readings of the batch that made the change cannot move further.
    over = (f"{gaps} gap{plural} in "
            f"{duration(float(table.gap_last[row]) - float(table.gap_first[row]))}")
    if silent > params.stale_after * expect or not episode:
        text = f"no reading for {duration(silent)} ({every})"
        return f"{text}; intermittent: {over}" if episode and gaps >= 2 else text
    return (f"intermittent: {over} ({every}); named until regular for "
            f"{duration(hold_time(silence_knobs(params), expect))}")


def reason(table: HealthTable, params: HealthParams, row: int, now: float) -> str:
    """Why ``row`` is in its current state. ``now`` dates silence (NaN: use the state's start)."""
    state = _STATES[int(table.state[row])]  # a tuple lookup: State(code) costs more
    unit = table.units[row]
    reference = "the model" if table.ref_kind[row] == REF_MODEL else "peers"
    if state in (State.STALE, State.OFFLINE):
        return _silence(table, params, row, now)
    if state is State.CLOCK:
        lag = clock_lag(float(table.lag_low[row]), float(table.lag_before[row]))
        # Said from the stamps' side, which is what a person compares with the clock on
        # the wall: a clock ahead stamps times still to come.
        if lag < 0:
            return (f"clock {duration(-lag)} ahead: readings stamped {duration(-lag)} "
                    f"after they arrive, in the future (their times are corrected)")
        return (f"clock {duration(lag)} behind: readings arrive on time, stamped "
                f"{duration(lag)} before they arrive")
    if state is State.STUCK:
        run = int(table.run_len[row])
        value = _amount(float(table.run_anchor[row]), unit)
        moved = float(table.run_ref_moved[row])
        if math.isfinite(moved) and moved > 0 and table.d_n[row] >= params.drift_warmup:
            return (f"value unchanged at {value} for {run} readings while {reference} "
                    f"moved {_amount(moved, unit)}")
        return (f"value unchanged at {value} for {run} readings, improbable from its own "
                f"history")
    if state is State.SPIKE:
        count = int(table.spike_len[row])
        size = _amount(float(table.spike_size[row]), unit, signed=True)
        span = "one reading" if count == 1 else f"{count} readings"
        return f"spike of {size} in {span}, not confirmed by the next readings"
    if state is State.DRIFT:
        offset = _amount(float(table.drift_size[row]), unit, signed=True)
        resolution = resolution_one(float(table.resolution[row]),
                                    float(table.res_learned[row]), int(table.count[row]))
        sd = diff_sd_one(float(table.reg_var[row]), resolution)
        over = float(table.last_time[row]) - float(table.drift_start[row])
        return (f"drifting {offset} from {reference} over {duration(over)} "
                f"({abs(float(table.drift_size[row])) / sd:.1f} noise sd)")
    if state is State.NOISY:
        ratio = math.sqrt(max(float(table.noise_fast[row]), 0.0))
        return f"noise {ratio:.1f}x its usual level"
    if table.count[row] == 0:
        return "no reading yet"
    if table.sigma_n[row] < params.warmup:
        return f"learning its normal behaviour ({int(table.sigma_n[row])} of " \
               f"{params.warmup} readings)"
    return "readings as expected"
