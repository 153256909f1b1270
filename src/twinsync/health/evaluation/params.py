"""The two parameter sets of the evaluation site: ``TUNE`` and ``HOLDOUT``.

Thresholds of the health checks are chosen on the ``tune`` part only. The ``holdout`` part
is drawn from a different parameter set (other amplitudes, noise levels, intervals, group
sizes, transient shapes, fault magnitudes and durations, another season) so that a change
that only fits the tune part's numbers shows up as a loss there. ``parameter_table`` prints
both side by side; docs/HEALTH.md holds its output.

Ranges are ``(low, high)`` for a uniform draw; ``choices`` with ``weights`` for a discrete one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

Range = tuple[float, float]

#: Signal types of the site, in the order their groups are laid out.
SIGNAL_TYPES = ("slab", "room_temperature", "room_humidity", "strain", "outdoor", "vibration")

DAY = 86_400.0
HOUR = 3_600.0


@dataclass(frozen=True, slots=True)
class SiteParams:
    """Everything the generator draws from, for one part of the evaluation set."""

    name: str
    #: Day 0 at 00:00 UTC, a Monday (work hours are 07-17 UTC on weekdays).
    start: float
    #: Mixed into the seed so the two parts never share a random stream.
    stream: int
    # -- layout and sensors ---------------------------------------------------------------
    type_shares: Mapping[str, float]
    group_sizes: tuple[int, ...]
    group_size_weights: tuple[float, ...]
    intervals_s: tuple[float, ...]
    interval_weights: tuple[float, ...]
    jitter_s: float
    latency_s: float
    #: Per signal type: noise sd range (vibration: of the log, i.e. relative).
    noise: Mapping[str, Range]
    resolution: Mapping[str, tuple[float, ...]]
    bias: Mapping[str, float]
    #: Slow local wander: sd of a mean-reverting walk (time scale ``wander_days``).
    wander: Mapping[str, float]
    wander_days: Range
    #: Each sensor's share of its group's transient (position in the slab, the room, the
    #: column's load path, distance to the work).
    transient_factor: Mapping[str, Range]
    # -- signals --------------------------------------------------------------------------
    outdoor_mean_c: float
    outdoor_daily_amplitude_c: Range
    front_every_days: Range
    front_size_c: Range
    front_hours: Range
    front_recovery_days: Range
    slab_peak_c: Range
    slab_peak_hours: Range
    slab_shape: Range
    slab_ambient_coupling: Range
    slab_ambient_lag_h: float
    room_day_c: float
    room_night_c: float
    room_tau_h: float
    door_per_work_hour: float
    door_drop_c: Range
    door_tau_min: Range
    humidity_base: Range
    humidity_per_c: float
    door_humidity: Range
    strain_dead_load: Range
    strain_step: Range
    strain_step_every_days: Range
    strain_ramp_h: Range
    strain_per_c: float
    strain_temporary: Range
    vibration_background: Range
    vibration_work: Range
    vibration_bursts_per_day: float
    vibration_burst: Range
    vibration_burst_min: Range
    # -- faults ---------------------------------------------------------------------------
    faulty_group_share: float
    #: Share of faulty groups with two faulty sensors (else one).
    two_faulty_share: float
    first_fault_day: float
    gap_days: Range
    kind_weights: Mapping[str, float]
    stuck_hours: Range
    stuck_variant_weights: Mapping[str, float]
    drift_days: Range
    #: Drift or offset size at its end, in the sensor's noise sd.
    drift_total_sd: Range
    drift_exponential_share: float
    drift_at_transient_share: float
    offset_sd: Range
    offset_days: Range
    crosswire_days: Range
    spike_sd: Range
    spike_burst_share: float
    noise_factor: Range
    noise_days: Range
    dropout_hours: Range
    dropout_loss: Range
    clock_shifts_s: tuple[float, ...]
    clock_hours: Range


TUNE = SiteParams(
    name="tune",
    start=1_772_409_600.0,  # 2026-03-02, a Monday in early spring
    stream=1,
    type_shares={"slab": 0.25, "room_temperature": 0.15, "room_humidity": 0.15,
                 "strain": 0.2, "outdoor": 0.1, "vibration": 0.15},
    group_sizes=(3, 4, 5),
    group_size_weights=(0.4, 0.4, 0.2),
    intervals_s=(60.0, 120.0, 300.0, 600.0, 900.0),
    interval_weights=(0.05, 0.15, 0.3, 0.3, 0.2),
    jitter_s=2.0,
    latency_s=3.0,
    noise={"slab": (0.03, 0.15), "room_temperature": (0.03, 0.1),
           "room_humidity": (0.2, 0.8), "strain": (0.8, 3.0), "outdoor": (0.05, 0.2),
           "vibration": (0.05, 0.15)},
    resolution={"slab": (0.01, 0.0625, 0.1), "room_temperature": (0.01, 0.1),
                "room_humidity": (0.1, 0.5, 1.0), "strain": (0.1, 1.0),
                "outdoor": (0.01, 0.1), "vibration": (0.001, 0.01)},
    bias={"slab": 0.3, "room_temperature": 0.3, "room_humidity": 2.0, "strain": 8.0,
          "outdoor": 0.3, "vibration": 0.005},
    wander={"slab": 0.05, "room_temperature": 0.05, "room_humidity": 0.5, "strain": 2.0,
            "outdoor": 0.05, "vibration": 0.002},
    wander_days=(1.0, 3.0),
    transient_factor={"slab": (0.9, 1.1), "room_temperature": (0.8, 1.0),
                      "room_humidity": (0.8, 1.0), "strain": (0.92, 1.08),
                      "outdoor": (0.5, 1.5), "vibration": (0.7, 1.0)},
    outdoor_mean_c=7.0,
    outdoor_daily_amplitude_c=(2.0, 5.0),
    front_every_days=(3.0, 6.0),
    front_size_c=(3.0, 8.0),
    front_hours=(1.0, 3.0),
    front_recovery_days=(1.0, 3.0),
    slab_peak_c=(12.0, 30.0),
    slab_peak_hours=(14.0, 30.0),
    slab_shape=(1.5, 2.5),
    slab_ambient_coupling=(0.4, 0.8),
    slab_ambient_lag_h=3.0,
    room_day_c=20.0,
    room_night_c=15.0,
    room_tau_h=1.0,
    door_per_work_hour=0.5,
    door_drop_c=(0.5, 2.5),
    door_tau_min=(15.0, 40.0),
    humidity_base=(40.0, 60.0),
    humidity_per_c=2.5,
    door_humidity=(2.0, 8.0),
    strain_dead_load=(150.0, 500.0),
    strain_step=(30.0, 120.0),
    strain_step_every_days=(4.0, 8.0),
    strain_ramp_h=(1.0, 3.0),
    strain_per_c=4.0,
    strain_temporary=(10.0, 40.0),
    vibration_background=(0.02, 0.05),
    vibration_work=(0.2, 0.6),
    vibration_bursts_per_day=3.0,
    vibration_burst=(1.0, 4.0),
    vibration_burst_min=(5.0, 60.0),
    faulty_group_share=0.6,
    two_faulty_share=0.3,
    first_fault_day=3.0,
    gap_days=(1.0, 3.0),
    kind_weights={"stuck": 1.0, "drift": 1.0, "spike": 1.2, "noise": 1.0, "dropout": 1.0,
                  "offset": 0.8, "crosswire": 0.6, "clock": 0.6},
    stuck_hours=(4.0, 24.0),
    stuck_variant_weights={"hold": 0.5, "flicker": 0.3, "rail": 0.2},
    drift_days=(1.0, 4.0),
    drift_total_sd=(4.0, 15.0),
    drift_exponential_share=0.4,
    drift_at_transient_share=0.3,
    offset_sd=(5.0, 20.0),
    offset_days=(0.5, 3.0),
    crosswire_days=(0.5, 3.0),
    spike_sd=(10.0, 40.0),
    spike_burst_share=0.5,
    noise_factor=(3.0, 6.0),
    noise_days=(1.0, 3.0),
    dropout_hours=(2.0, 16.0),
    dropout_loss=(0.5, 1.0),
    clock_shifts_s=(3600.0, -3600.0),
    clock_hours=(2.0, 24.0),
)

HOLDOUT = SiteParams(
    name="holdout",
    start=1_791_158_400.0,  # 2026-10-05, a Monday in autumn
    stream=2,
    type_shares={"slab": 0.2, "room_temperature": 0.15, "room_humidity": 0.1,
                 "strain": 0.25, "outdoor": 0.1, "vibration": 0.2},
    group_sizes=(3, 4, 5),
    group_size_weights=(0.6, 0.15, 0.25),
    intervals_s=(60.0, 180.0, 300.0, 600.0, 900.0),
    interval_weights=(0.1, 0.2, 0.2, 0.2, 0.3),
    jitter_s=5.0,
    latency_s=8.0,
    noise={"slab": (0.05, 0.25), "room_temperature": (0.02, 0.15),
           "room_humidity": (0.3, 1.2), "strain": (0.5, 5.0), "outdoor": (0.03, 0.3),
           "vibration": (0.08, 0.25)},
    resolution={"slab": (0.0625, 0.1, 0.5), "room_temperature": (0.01, 0.05, 0.5),
                "room_humidity": (0.1, 1.0), "strain": (0.5, 1.0, 2.0),
                "outdoor": (0.1, 0.5), "vibration": (0.001, 0.005)},
    bias={"slab": 0.5, "room_temperature": 0.2, "room_humidity": 3.0, "strain": 15.0,
          "outdoor": 0.5, "vibration": 0.01},
    wander={"slab": 0.1, "room_temperature": 0.08, "room_humidity": 1.0, "strain": 4.0,
            "outdoor": 0.1, "vibration": 0.004},
    wander_days=(0.5, 2.0),
    transient_factor={"slab": (0.85, 1.15), "room_temperature": (0.7, 1.0),
                      "room_humidity": (0.7, 1.0), "strain": (0.92, 1.08),
                      "outdoor": (0.3, 2.0), "vibration": (0.5, 1.0)},
    outdoor_mean_c=12.0,
    outdoor_daily_amplitude_c=(1.0, 7.0),
    front_every_days=(2.0, 5.0),
    front_size_c=(2.0, 10.0),
    front_hours=(0.5, 6.0),
    front_recovery_days=(0.5, 4.0),
    slab_peak_c=(8.0, 40.0),
    slab_peak_hours=(10.0, 40.0),
    slab_shape=(1.2, 3.5),
    slab_ambient_coupling=(0.3, 0.9),
    slab_ambient_lag_h=5.0,
    room_day_c=21.0,
    room_night_c=17.0,
    room_tau_h=0.5,
    door_per_work_hour=1.0,
    door_drop_c=(0.3, 4.0),
    door_tau_min=(5.0, 60.0),
    humidity_base=(35.0, 70.0),
    humidity_per_c=3.5,
    door_humidity=(1.0, 12.0),
    strain_dead_load=(300.0, 900.0),
    strain_step=(20.0, 200.0),
    strain_step_every_days=(2.0, 6.0),
    strain_ramp_h=(0.3, 5.0),
    strain_per_c=7.0,
    strain_temporary=(5.0, 80.0),
    vibration_background=(0.01, 0.08),
    vibration_work=(0.1, 1.0),
    vibration_bursts_per_day=6.0,
    vibration_burst=(0.5, 8.0),
    vibration_burst_min=(2.0, 120.0),
    faulty_group_share=0.5,
    two_faulty_share=0.4,
    first_fault_day=4.0,
    gap_days=(0.5, 4.0),
    kind_weights={"stuck": 0.8, "drift": 1.2, "spike": 1.0, "noise": 0.8, "dropout": 1.0,
                  "offset": 1.0, "crosswire": 0.8, "clock": 0.8},
    stuck_hours=(2.0, 48.0),
    stuck_variant_weights={"hold": 0.4, "flicker": 0.4, "rail": 0.2},
    drift_days=(0.5, 6.0),
    drift_total_sd=(3.0, 25.0),
    drift_exponential_share=0.5,
    drift_at_transient_share=0.5,
    offset_sd=(3.0, 30.0),
    offset_days=(0.25, 5.0),
    crosswire_days=(0.25, 4.0),
    spike_sd=(6.0, 60.0),
    spike_burst_share=0.6,
    noise_factor=(2.0, 8.0),
    noise_days=(0.5, 4.0),
    dropout_hours=(1.0, 30.0),
    dropout_loss=(0.3, 1.0),
    clock_shifts_s=(3600.0, -3600.0, 1800.0, -7200.0),
    clock_hours=(1.0, 48.0),
)

#: The tune site read by coarser sensors (slabs and rooms to half a degree, strain to
#: 1-5 µε): the same signals, faults and draws as ``tune`` at one seed, each reading only
#: quantised more. A part to tune on, like ``tune``, that shows what a check takes from a
#: fine resolution: a check that holds on both is less likely to fail a site whose
#: loggers are coarse. Not a holdout.
TUNE_COARSE = replace(
    TUNE, name="tune-coarse",
    resolution={"slab": (0.25, 0.5), "room_temperature": (0.1, 0.25, 0.5),
                "room_humidity": (0.5, 1.0, 2.0), "strain": (1.0, 2.0, 5.0),
                "outdoor": (0.25, 0.5), "vibration": (0.005, 0.01)})

PARTS: dict[str, SiteParams] = {"tune": TUNE, "tune-coarse": TUNE_COARSE, "holdout": HOLDOUT}


def differing_fields(first: SiteParams = TUNE, second: SiteParams = HOLDOUT) -> list[str]:
    """Names of the parameters whose values differ between the two sets."""
    return [f.name for f in fields(SiteParams)
            if getattr(first, f.name) != getattr(second, f.name)]


def parameter_table(first: SiteParams = TUNE, second: SiteParams = HOLDOUT) -> str:
    """Both parameter sets side by side as a Markdown table (docs/HEALTH.md holds it)."""
    lines = [f"| parameter | {first.name} | {second.name} |", "|---|---|---|"]
    for field in fields(SiteParams):
        if field.name == "name":
            continue
        ranged = "Range" in str(field.type)
        left, right = getattr(first, field.name), getattr(second, field.name)
        if field.name == "start":
            left, right = _date(left), _date(right)
        mark = "" if left == right else " *"
        lines.append(f"| {field.name}{mark} | {_shown(left, ranged)} | "
                     f"{_shown(right, ranged)} |")
    return "\n".join(lines)


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d (%a)")


def _shown(value: object, ranged: bool) -> str:
    """A range as ``low-high``, choices as ``a/b/c``, a mapping as ``key value, ...``."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key} {_shown(item, ranged)}" for key, item in value.items())
    if isinstance(value, tuple):
        return ("-" if ranged else "/").join(_shown(item, False) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
