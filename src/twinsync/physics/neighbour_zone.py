"""A thermal zone that exchanges heat with its neighbouring zones as well as the outdoors.

A room of a building loses heat through its envelope to the outdoors and through its
partitions to the rooms beside, above and below it. With ``U_out`` the envelope's
conductance (kW/K), ``U_n`` the partitions' (to the neighbours' mean temperature ``T_n``;
exact when each neighbour's partition conducts alike), ``Φ`` the heating (kW) and ``C`` the
capacitance (kWh/K):

    C dT/dt = U_out (T_out - T) + U_n (T_n - T) + Φ

which is the RC zone (``thermal.ThermalZone``) with ``R = 1 / (U_out + U_n)``, the
resistance to everything outside the room, and a driving temperature that is a blend:

    T_eq = (1 - s) T_out + s T_n + R Φ + G,   s = U_n / (U_out + U_n),   τ = R C

``s`` is the share of the room's heat loss that goes to its neighbours. The state is
``[T, ln R, ln C, G, logit s]``: as logarithms and a logit, no estimate can leave its
range; ``G`` is the heat gain no input explains (``thermal.HeatGainZone``). Inputs are
``[T_out, Φ, T_n]``; a zone with no neighbour read takes ``T_n = T_out``, for which ``s``
moves nothing (and the filter learns nothing of it). The resistance to the outdoors alone
is ``R / (1 - s)``, to the neighbours ``R / s``.

Why a blend and not a second resistance in the state: R then keeps its meaning as the
zone's time constant over C, whatever the split, so the prior of R and C learned on rooms
without neighbours holds; the split is one number in [0, 1] whose prior says how much of a
room's loss a building's partitions usually take.

>>> zone = NeighbourZone()
>>> state = zone.state(np.array([20.0]), np.array([5.0]), np.array([10.0]), share=0.25)
>>> np.round(zone.step(state, 5000.0, np.array([[0.0, 0.0, 20.0]]))[:, 0], 4).tolist()
[5.0]
"""

from __future__ import annotations

import numpy as np

from .contract import Array
from .thermal import HeatGainZone, ThermalZone


def share_of(logit: Array) -> Array:
    """The share ``s`` in (0, 1) of a logit."""
    share: Array = 1.0 / (1.0 + np.exp(-logit))
    return share


class NeighbourZone(HeatGainZone):
    """The RC zone with its heat gain and its neighbours (see the module) as a
    ``StateModel`` over a batch of zones."""

    state_names: tuple[str, ...] = ("temperature", "log_resistance", "log_capacitance", "gain",
                                    "neighbour_logit")
    parameter_names: tuple[str, ...] = ("log_resistance", "log_capacitance", "gain",
                                        "neighbour_logit")
    input_names: tuple[str, ...] = ("outdoor_temperature", "heating_kw",
                                    "neighbour_temperature")

    @staticmethod
    def state(temperature: Array, resistance: Array, capacitance: Array,
              gain: Array | float = 0.0, share: Array | float = 0.1) -> Array:
        """States ``(B, 5)`` from temperatures (°C), R (K/kW, to everything outside the
        room), C (kWh/K), gains (K) and the neighbours' shares of the loss (0 < s < 1)."""
        four = HeatGainZone.state(temperature, resistance, capacitance, gain)
        logit = np.log(np.asarray(share) / (1.0 - np.asarray(share)))
        return np.column_stack([four, np.broadcast_to(logit, four.shape[:1])]).astype(
            np.float64)

    @staticmethod
    def resistances(state: Array) -> tuple[Array, Array]:
        """The resistance (K/kW) to the outdoors alone and to the neighbours alone."""
        resistance, share = np.exp(state[:, 1]), share_of(state[:, 4])
        return resistance / (1.0 - share), resistance / share

    def _parts(self, state: Array, dt: float | Array, inputs: Array) -> tuple[Array, ...]:
        u = np.asarray(inputs, dtype=np.float64)
        if u.shape != (state.shape[0], 3):
            raise ValueError(f"inputs must be ({state.shape[0]}, 3): outdoor °C, heating kW,"
                             " neighbours °C")
        resistance, capacitance = ThermalZone.parameters(state)
        tau = resistance * capacitance
        share = share_of(state[:, 4])
        equilibrium = (u[:, 0] + share * (u[:, 2] - u[:, 0]) + resistance * u[:, 1]
                       + state[:, 3])
        decay = np.exp(-dt / tau)
        return resistance, tau, equilibrium, decay, u

    def step_jacobian(self, state: Array, dt: float | Array, inputs: Array) -> Array:
        J = super().step_jacobian(state, dt, inputs)
        _, _, _, decay, u = self._parts(state, dt, inputs)
        share = share_of(state[:, 4])
        # d T_eq / d logit s = (T_n - T_out) s (1 - s)
        J[:, 0, 4] = (1.0 - decay) * (u[:, 2] - u[:, 0]) * share * (1.0 - share)
        return J
