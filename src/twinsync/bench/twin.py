"""``twinsync bench twin``: how well the physics twin calibrates, notices divergence,
forecasts, and what it costs per element.

Four parts, all on simulated data (pure NumPy, no store, no service):

- calibration: ``--zones`` RC zones (R 2-10 K/kW, C 5-30 kWh/K) over ``--days`` days at
  15 minutes, outdoor a daily swing round a wandering mean, heating switched among 0, 2 and
  4 kW, sensor noise 0.05 K; the UKF and the EKF start 50 % high on R and 40 % low on C and
  estimate both jointly with the temperature. Reported: median and worst error (%) at the
  end. Beside it the maturity fit: 200 mixes' logarithmic strength-maturity curves fitted
  from 15 cylinder breaks with 5 % scatter, and the error (%) of the maturity at which
  each reaches 70 % of its 28-day strength (when the formwork may come off).
- conditional calibration (``bench/conditional.py``): zones whose R depends on the outdoor
  temperature, learned as a table over three bins of it, beside the one-R zone.
- divergence: the default CUSUM's (and Page-Hinkley's) false-alarm run length ARL0 on
  N(0, 1) residuals, each element simulated to its first alarm (``--arl-elements``), and
  the delay to a sustained 1-sd shift: from a fresh start (what Siegmund's approximation,
  printed beside, predicts) and after 500 readings in control (elements that alarmed
  before the shift are left out).
- coverage: ``--series`` series simulated from the local level and the local linear trend,
  filtered, and the share of readings 1, 4, 16 and 96 steps ahead inside the 90 % forecast
  interval made at every reading after a burn-in.
- cost: microseconds per element per predict-and-update of the linear filter (local level)
  and the UKF (thermal zone), with the innovation gate and without, over 100 and 100,000
  elements (best of ``--repeat``).
- zone forecast (``bench/zone_forecast.py``): the coverage of a thermal zone's 90 %
  forecast interval (what the forecast route answers for a zone's air temperature) 1, 6
  and 24 h ahead on ``--zone-forecast-zones`` simulated zones over
  ``--zone-forecast-days`` for each of ``--zone-forecast-seeds``, with its inputs'
  futures persisted (the route's way), each input's future known, and held as known;
  and what one such forecast costs (``cost_ms``).
- zone divergence (``bench/zone_watch.py``): the thermal zones' divergence watch on
  well-specified simulated zones (``--zone-watch-zones`` over ``--zone-watch-days``): readings
  per false start, the delay to tell R halved and R after the recalibration, and the cost
  per zone reading of ``ZoneBank.update`` with and without the watch at
  ``--zone-cost-sizes`` zones.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

from ..physics.contract import Array
from ..physics.divergence import REFERENCE, THRESHOLD, Cusum, PageHinkley
from ..physics.gate import DEFAULT_GATE
from ..physics.kalman import ExtendedKalmanFilter, KalmanFilter
from ..physics.level import LocalTrend
from ..physics.maturity import LogarithmicCurve, fit_logarithmic
from ..physics.runlength import run_lengths, siegmund_two_sided
from ..physics.simulate import zone_weather
from ..physics.thermal import HeatGainZone, ThermalZone
from ..physics.ukf import UnscentedKalmanFilter
from ..physics.zone_bank import ZoneKnobs
from .conditional import conditional_calibration
from .timing import best_of
from .zone_forecast import forecast_cost, zone_forecast_coverage
from .zone_watch import zone_divergence

DT = 0.25  # hours: readings every 15 minutes
HORIZONS = (1, 4, 16, 96)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="small runs (a few seconds)")
    parser.add_argument("--zones", type=int, default=20, help="simulated zones (default 20)")
    parser.add_argument("--days", type=int, default=30, help="days of readings (default 30)")
    parser.add_argument(
        "--arl-elements",
        type=int,
        default=1000,
        help="elements run to a false alarm for the CUSUM's ARL0 (default 1000)",
    )
    parser.add_argument(
        "--delay-elements",
        type=int,
        default=2000,
        help="elements shifted by 1 sd for the delays (default 2000)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=THRESHOLD,
        help=f"the detectors' threshold h to measure (default {THRESHOLD})",
    )
    parser.add_argument(
        "--series", type=int, default=2000, help="series for the coverage (default 2000)"
    )
    parser.add_argument(
        "--elements",
        type=int,
        nargs="+",
        default=[100, 100_000],
        help="batch sizes for the cost (default 100 100000)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timing runs (default 5)")
    parser.add_argument("--zone-watch-zones", type=int, default=400,
                        help="simulated zones for the zone watch's false alarms (default 400)")
    parser.add_argument("--zone-watch-days", type=int, default=30,
                        help="days of readings for the zone watch (default 30)")
    parser.add_argument("--zone-cost-sizes", type=int, nargs="+", default=[100, 10_000],
                        help="zones for the zone watch's cost (default 100 10000)")
    parser.add_argument("--zone-forecast-zones", type=int, default=40,
                        help="simulated zones a seed for the zone forecast (default 40)")
    parser.add_argument("--zone-forecast-days", type=int, default=28,
                        help="days of readings for the zone forecast (default 28)")
    parser.add_argument("--zone-forecast-seeds", type=int, nargs="+", default=[10, 11, 12],
                        help="seeds of the zone forecast's coverage (default 10 11 12: "
                             "not those its choices were made on, 0 1 2)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        args.zones, args.days, args.arl_elements = 4, 10, 150
        args.delay_elements, args.series, args.repeat = 500, 300, 2
        args.zone_watch_zones, args.zone_watch_days = 50, 10
        args.zone_cost_sizes = [100, 1000]
        args.zone_forecast_zones, args.zone_forecast_days = 10, 9
        args.zone_forecast_seeds = args.zone_forecast_seeds[:1]
    started = time.perf_counter()
    figures: dict[str, Any] = {
        "calibration": calibration(args.zones, args.days, args.seed),
        "conditional_calibration": conditional_calibration(args.zones, args.days, args.seed),
        "maturity_fit": maturity_fit(200, args.seed),
        "divergence": divergence(
            args.arl_elements, args.delay_elements, args.threshold, args.seed
        ),
        "coverage": coverage(args.series, args.seed),
        "cost_us": cost(args.elements, args.repeat, args.seed),
        "zone_divergence": zone_divergence(args.zone_watch_zones, args.zone_watch_days,
                                           args.zone_cost_sizes, args.repeat, args.seed),
        "zone_forecast": zone_forecast_coverage(args.zone_forecast_zones,
                                                args.zone_forecast_days,
                                                args.zone_forecast_seeds)
        | {"cost_ms": forecast_cost(args.repeat, args.seed)},
    }
    figures["seconds"] = round(time.perf_counter() - started, 1)
    _print(figures)
    return figures


# -- calibration --------------------------------------------------------------------------


def simulated_zones(zones: int, days: int, seed: int) -> tuple[Array, ...]:
    """True R and C, inputs ``(B, T, 2)`` and readings ``(B, T)`` of ``zones`` RC zones."""
    rng = np.random.default_rng(seed)
    model = ThermalZone()
    resistance = rng.uniform(2.0, 10.0, zones)
    capacitance = rng.uniform(5.0, 30.0, zones)
    steps = int(days * 24 / DT)
    outdoor, heating = zone_weather(rng, zones, steps, DT)
    inputs = np.stack([outdoor, heating], axis=-1)
    state = model.state(np.full(zones, 18.0), resistance, capacitance)
    temperature = np.empty((zones, steps))
    for t in range(steps):
        temperature[:, t] = state[:, 0]
        state = model.step(state, DT, inputs[:, t])
    return resistance, capacitance, inputs, temperature + rng.normal(0, 0.05, temperature.shape)


def calibration(zones: int, days: int, seed: int) -> dict[str, Any]:
    """R and C recovered by the UKF and EKF on the RC zone, and (``ukf_gain``) by the UKF
    on the zone the reading path runs, its heat gain estimated beside them (a random walk
    of the knobs' noise, from 0 K with the knobs' prior sd; the truth has none)."""
    resistance, capacitance, inputs, readings = simulated_zones(zones, days, seed)
    out: dict[str, Any] = {"zones": zones, "days": days}
    knobs = ZoneKnobs()
    for name, kind, model in (("ukf", UnscentedKalmanFilter, ThermalZone()),
                              ("ekf", ExtendedKalmanFilter, ThermalZone()),
                              ("ukf_gain", UnscentedKalmanFilter, HeatGainZone())):
        start = model.state(readings[:, 0], 1.5 * resistance, 0.6 * capacitance)
        spread = [0.05**2, 0.5**2, 0.5**2, knobs.gain_sd**2][:start.shape[1]]
        noise = np.diag([1e-4, 1e-8, 1e-8, knobs.gain_noise][:start.shape[1]])
        size = start.shape[1]
        covariance = np.broadcast_to(np.diag(spread), (zones, size, size)).copy()
        estimator = kind(model, start, covariance)
        gated = 0
        for t in range(1, readings.shape[1]):
            estimator.predict(DT, inputs[:, t - 1], noise)
            gated += int(estimator.update(readings[:, t : t + 1], 0.05**2).gated.sum())
        found_r, found_c = model.parameters(estimator.x)
        error_r = 100 * np.abs(found_r / resistance - 1)
        error_c = 100 * np.abs(found_c / capacitance - 1)
        out[name] = {
            "r_error_pct_median": round(float(np.median(error_r)), 3),
            "r_error_pct_max": round(float(error_r.max()), 3),
            "c_error_pct_median": round(float(np.median(error_c)), 3),
            "c_error_pct_max": round(float(error_c.max()), 3),
            "gated_readings": gated,
        }
    return out


def maturity_fit(mixes: int, seed: int) -> dict[str, Any]:
    """Curves fitted from breaks at 1, 3, 7, 14 and 28 days (three each) cured at 20 °C."""
    rng = np.random.default_rng(seed + 1)
    ages = np.repeat([1.0, 3.0, 7.0, 14.0, 28.0], 3)
    maturity = (20.0 + 10.0) * 24.0 * ages  # °C·h over the -10 °C datum
    errors = []
    for _ in range(mixes):
        truth = LogarithmicCurve(a=rng.uniform(-40, -10), b=rng.uniform(10, 16))
        strength = truth.strength(maturity) * (1 + rng.normal(0, 0.05, maturity.shape))
        fitted = fit_logarithmic(maturity, strength)
        target = 0.7 * float(truth.strength(np.array([maturity[-1]]))[0])
        errors.append(100 * abs(fitted.maturity_for(target) / truth.maturity_for(target) - 1))
    return {
        "mixes": mixes,
        "breaks": int(ages.size),
        "scatter_pct": 5,
        "maturity_to_70pct_error_pct_median": round(float(np.median(errors)), 2),
        "maturity_to_70pct_error_pct_p90": round(float(np.percentile(errors, 90)), 2),
    }


# -- divergence ---------------------------------------------------------------------------


def divergence(elements: int, shifted: int, threshold: float, seed: int) -> dict[str, Any]:
    k, h = REFERENCE, threshold

    def cusum() -> Cusum:
        return Cusum(k, h)

    def hinkley() -> PageHinkley:
        return PageHinkley(k, h)

    in_control = run_lengths(cusum, elements, seed=seed + 10)
    fresh = run_lengths(cusum, shifted, shift=1.0, seed=seed + 11)
    settled = run_lengths(cusum, shifted, shift=1.0, shift_after=500, seed=seed + 12)
    hinkley_elements = max(elements // 2, 50)
    hinkley_control = run_lengths(hinkley, hinkley_elements, seed=seed + 13)
    hinkley_settled = run_lengths(hinkley, shifted, shift=1.0, shift_after=500, seed=seed + 14)
    return {
        "cusum": {
            "k": k,
            "h": h,
            "arl0": _mean(in_control),
            "arl0_standard_error": _stderr(in_control),
            "arl0_siegmund": round(siegmund_two_sided(0.0, k, h), 1),
            "elements": elements,
            "shifted_elements": shifted,
            "delay_1sd_fresh_mean": _mean(fresh),
            "delay_1sd_fresh_median": _median(fresh),
            "delay_1sd_siegmund": round(siegmund_two_sided(1.0, k, h), 2),
            "delay_1sd_after_500_mean": _mean(settled),
            "delay_1sd_after_500_median": _median(settled),
            "alarmed_before_shift": int(np.isnan(settled).sum()),
        },
        "page_hinkley": {
            "delta": k,
            "threshold": h,
            "warmup": PageHinkley().warmup,
            "arl0": _mean(hinkley_control),
            "arl0_standard_error": _stderr(hinkley_control),
            "elements": hinkley_elements,
            "delay_1sd_after_500_mean": _mean(hinkley_settled),
            "delay_1sd_after_500_median": _median(hinkley_settled),
            "alarmed_before_shift": int(np.isnan(hinkley_settled).sum()),
        },
    }


def _mean(lengths: Array) -> float | None:
    finite = lengths[np.isfinite(lengths)]
    return round(float(finite.mean()), 2) if finite.size else None


def _median(lengths: Array) -> float | None:
    finite = lengths[np.isfinite(lengths)]
    return round(float(np.median(finite)), 1) if finite.size else None


def _stderr(lengths: Array) -> float | None:
    finite = lengths[np.isfinite(lengths)]
    if finite.size < 2:
        return None
    return round(float(finite.std(ddof=1) / math.sqrt(finite.size)), 1)


# -- coverage -----------------------------------------------------------------------------


def coverage(series: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {"series": series, "interval": 0.9, "horizons_steps": list(HORIZONS)}
    rng = np.random.default_rng(seed + 20)
    for name, model in (
        ("local_level", LocalTrend(level_noise=0.04, noise=0.01)),
        ("local_trend", LocalTrend(level_noise=0.01, noise=0.01, trend_noise=1e-3)),
    ):
        out[name] = _coverage(model, series, rng)
    return out


def _coverage(model: LocalTrend, series: int, rng: np.random.Generator) -> dict[str, float]:
    burn_in, origins, furthest = 50, 300, max(HORIZONS)
    steps = burn_in + origins + furthest
    Q = model.process_noise(DT)
    noise = rng.multivariate_normal(np.zeros(model.size), Q, (series, steps))
    state = np.zeros((series, model.size))
    level = np.empty((series, steps))
    for t in range(steps):
        state = model.step(state, DT, np.zeros((series, 0))) + noise[:, t]
        level[:, t] = state[:, 0]
    readings = level + rng.normal(0, math.sqrt(model.noise), level.shape)
    prior = np.broadcast_to(1e4 * np.eye(model.size), (series, model.size, model.size))
    kf = KalmanFilter(np.zeros((series, model.size)), prior, gate=None)
    F, H = model.transition(DT), np.eye(1, model.size)
    inside = np.zeros(len(HORIZONS))
    counted = 0
    for t in range(burn_in + origins):
        if t > 0:
            kf.predict(F, Q)
        kf.update(readings[:, t : t + 1], H, model.noise)
        if t < burn_in:
            continue
        low, high = model.forecast(kf.x, kf.P, DT, furthest).interval(0.9)
        for i, h in enumerate(HORIZONS):
            later = readings[:, t + h]
            inside[i] += np.count_nonzero((low[:, h - 1] <= later) & (later <= high[:, h - 1]))
        counted += series
    return {str(h): round(float(100 * inside[i] / counted), 2) for i, h in enumerate(HORIZONS)}


# -- cost ---------------------------------------------------------------------------------


def cost(sizes: list[int], repeat: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 30)
    return {str(size): _cost(size, repeat, rng) for size in sizes}


def _cost(size: int, repeat: int, rng: np.random.Generator) -> dict[str, float]:
    level = LocalTrend(level_noise=0.01, noise=0.01)
    zone = ThermalZone()
    readings = 20.0 + rng.normal(0, 0.1, (size, 1))
    F, Q, H = level.transition(DT), level.process_noise(DT), np.eye(1)
    inputs = np.column_stack([np.full(size, 5.0), np.full(size, 2.0)])
    out = {}
    for suffix, gate in (("", DEFAULT_GATE), ("_ungated", None)):
        kf = KalmanFilter(readings.copy(), np.full((size, 1, 1), 0.01), gate)
        state = zone.state(readings[:, 0], np.full(size, 5.0), np.full(size, 10.0))
        covariance = np.broadcast_to(np.diag([0.01, 0.01, 0.01]), (size, 3, 3)).copy()
        ukf = UnscentedKalmanFilter(zone, state, covariance, gate=gate)
        gain_zone = HeatGainZone()
        with_gain = UnscentedKalmanFilter(
            gain_zone, gain_zone.state(readings[:, 0], np.full(size, 5.0), np.full(size, 10.0)),
            np.broadcast_to(np.diag([0.01] * 4), (size, 4, 4)).copy(), gate=gate)

        def linear(kf: KalmanFilter = kf) -> None:
            kf.predict(F, Q)
            kf.update(readings, H, level.noise)

        def unscented(ukf: UnscentedKalmanFilter = ukf) -> None:
            ukf.predict(DT, inputs, np.diag([1e-4, 1e-8, 1e-8]))
            ukf.update(readings, 0.05**2)

        def unscented_gain(ukf: UnscentedKalmanFilter = with_gain) -> None:
            ukf.predict(DT, inputs, np.diag([1e-4, 1e-8, 1e-8, 1e-2]))
            ukf.update(readings, 0.05**2)

        out[f"kf_level{suffix}"] = round(1e6 * best_of(repeat, linear) / size, 3)
        out[f"ukf_zone{suffix}"] = round(1e6 * best_of(repeat, unscented) / size, 3)
        # the zone the reading path runs: its heat gain in the state (9 sigma points, not 7)
        out[f"ukf_zone_gain{suffix}"] = round(1e6 * best_of(repeat, unscented_gain) / size, 3)
    return out


def _print(figures: dict[str, Any]) -> None:
    cal = figures["calibration"]
    for name in ("ukf", "ekf", "ukf_gain"):
        c = cal[name]
        print(
            f"calibration {name}: {cal['zones']} zones x {cal['days']} days, R error "
            f"median {c['r_error_pct_median']} % max {c['r_error_pct_max']} %, C error "
            f"median {c['c_error_pct_median']} % max {c['c_error_pct_max']} %"
        )
    cond = figures["conditional_calibration"]
    for name in ("ukf", "ekf"):
        table, one = cond[f"{name}_table"], cond[f"{name}_one_r"]
        print(
            f"R by outdoor temperature {name} (bins {cond['bins_c']} degC): error median "
            f"{table['r_error_pct_median']} % p90 {table['r_error_pct_p90']} %; one-step "
            f"RMS {table['one_step_rms_k']} K (one R alone {one['one_step_rms_k']} K), day "
            f"ahead {table['day_ahead_rms_k']} K (one R alone {one['day_ahead_rms_k']} K)"
        )
    m = figures["maturity_fit"]
    print(
        f"maturity fit: {m['mixes']} mixes, maturity to 70 % strength off by median "
        f"{m['maturity_to_70pct_error_pct_median']} % (90th percentile "
        f"{m['maturity_to_70pct_error_pct_p90']} %)"
    )
    c = figures["divergence"]["cusum"]
    print(
        f"cusum k={c['k']} h={c['h']}: ARL0 {c['arl0']} (+-{c['arl0_standard_error']}, "
        f"Siegmund {c['arl0_siegmund']}); 1-sd delay fresh {c['delay_1sd_fresh_mean']} "
        f"(Siegmund {c['delay_1sd_siegmund']}), after 500 mean "
        f"{c['delay_1sd_after_500_mean']} median {c['delay_1sd_after_500_median']}"
    )
    p = figures["divergence"]["page_hinkley"]
    print(
        f"page-hinkley: ARL0 {p['arl0']} (+-{p['arl0_standard_error']}); 1-sd delay after "
        f"500 mean {p['delay_1sd_after_500_mean']} median {p['delay_1sd_after_500_median']}"
    )
    for name in ("local_level", "local_trend"):
        shares = figures["coverage"][name]
        print(f"coverage of the 90 % interval, {name} (steps ahead: %): {shares}")
    for size, c in figures["cost_us"].items():
        print(
            f"cost per element-update at {size}: KF {c['kf_level']} us "
            f"({c['kf_level_ungated']} ungated), UKF {c['ukf_zone']} us "
            f"({c['ukf_zone_ungated']} ungated)"
        )
    z = figures["zone_divergence"]
    f, d = z["false_alarms"], z["r_halved"]
    print(
        f"zone watch: {f['zones']} well-specified zones x {f['days']} days, "
        f"{f['starts']} false starts ({f['starts_in_first_week']} in the first week; "
        f"{f['starts_within_a_day_of_the_zones_last']} within a day of the zone's last; "
        f"{f['zones_started']} zones) in {f['readings_watched']} readings watched: one per "
        f"{f['readings_per_false_start']} readings"
    )
    print(
        f"zone watch, R halved on day {d['change_day']}: told {d['told']} of {d['of']}, "
        f"delay mean {d['delay_readings_mean']} median {d['delay_readings_median']} p90 "
        f"{d['delay_readings_p90']} readings; R error at the alarm "
        f"{d['r_error_pct_at_alarm_median']} %, after recalibration "
        f"{d['r_error_pct_after_recalibration_median']} % (p90 "
        f"{d['r_error_pct_after_recalibration_p90']} %), at the end "
        f"{d['r_error_pct_at_end_median']} % (max {d['r_error_pct_at_end_max']} %)"
    )
    for size, c in z["cost_us_a_zone_reading"].items():
        print(
            f"zone step per zone reading at {size} zones: {c['with_watch']} us with the "
            f"watch, {c['without_watch']} us without"
        )
    f = figures["zone_forecast"]
    for case, shares in f["all"].items():
        if case not in ("width_k", "standard_error"):
            print(f"zone forecast, 90 % interval's coverage {case} (seeds {f['seeds']}): "
                  f"{shares} (standard error {f['all']['standard_error'][case]}), mean "
                  f"width {f['all']['width_k'][case]} K")
    print(f"zone forecast, one request's work (ms, best of runs): {f['cost_ms']}")
