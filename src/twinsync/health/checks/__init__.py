"""The health checks, each its own unit: its columns of per-sensor state, its knobs, the
evidence it takes per reading and a compiled ``step`` over one reading (and
``learn_many`` over many), under the detector contract of ``twinsync.detect``
(``HealthCheck`` wraps a check module for it).

The fold (``kernel``) computes what the checks share (the interval, the reference, the
sensor's own fit and the scales), then calls them in this order: ``outlier`` (hold a far-off
reading), ``noise``, ``stuck``, ``drift`` (drift, calibration offsets and cross-wiring), and
``spike`` (announce a returned outlier once calm follows). Dropout and clocks are told by
``arrivals`` (per reading, also under the contract, its state in a record of its own so
that the timer's pass reads one cache line a sensor) and by ``silence``'s timer. A new
check is a module here with its columns, knobs, evidence and step, listed in ``CHECKS``;
the table takes its columns, the snapshot saves them and the contract test covers it from
that list.
"""

from __future__ import annotations

from . import arrivals, drift, noise, outlier, spike, stuck

#: The checks whose state is fields of the health table's main record, in its order.
CHECKS = (noise, outlier, spike, stuck, drift)
#: Every check under the detector contract (``tests/health/checks/test_contract.py``).
CONTRACT_CHECKS = (*CHECKS, arrivals)

__all__ = ["CHECKS", "CONTRACT_CHECKS", "arrivals", "drift", "noise", "outlier", "spike",
           "stuck"]
