"""The health checks, each its own unit: its columns of per-sensor state, its knobs, the
evidence it takes per reading and a compiled ``step`` over one reading (and
``learn_many`` over many), under the detector contract of ``twinsync.detect``
(``HealthCheck`` wraps a check module for it).

The fold (``kernel``) computes what the checks share (the interval, the reference, the
sensor's own fit and the scales), then calls them in this order: ``outlier`` (hold a far-off
reading), ``noise``, ``stuck``, ``drift`` (drift, calibration offsets and cross-wiring), and
``spike`` (announce a returned outlier once calm follows); dropout and clocks are
``silence``'s, told by arrivals and the timer. A new check is a module here with its
columns, knobs, evidence and step, listed in ``CHECKS``; the table takes its columns, the
snapshot saves them and the contract test covers it from that list.
"""

from __future__ import annotations

from . import drift, noise, outlier, spike, stuck

#: The checks in the order of ``table.FoldViews`` (after the core).
CHECKS = (noise, outlier, spike, stuck, drift)

__all__ = ["CHECKS", "drift", "noise", "outlier", "spike", "stuck"]
