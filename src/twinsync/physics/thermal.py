"""A first-order thermal zone (one resistance, one capacitance) whose R and C are estimated
online with its temperature.

The zone's air and fabric are one capacitance ``C`` (kWh/K) tied to the outdoors through one
resistance ``R`` (K/kW), heated (or, negative, cooled) by ``Φ`` kW:

    C dT/dt = (T_out - T) / R + Φ

Over a step ``dt`` (hours) with ``T_out`` and ``Φ`` held, the exact solution is used, not an
Euler step, so a long step stays stable:

    T' = T_eq + (T - T_eq) e,   T_eq = T_out + R Φ,   e = exp(-dt / (R C))

The state is ``[T, ln R, ln C]``: parameters in the state for joint estimation by the UKF or
EKF, as logarithms so that no estimate can make them negative and both move on the same
relative scale. ``dt`` may be one step for all zones or one per zone (``(B,)``: zones read
at their own times, ``zone_bank``). ``step`` leaves the parameters as they are; the
filter's process noise on them says how fast they may drift. Inputs are ``[T_out, Φ]``;
the sensor reads ``T``.

``HeatGainZone`` adds an unknown heat gain ``G`` (K) to the state, ``[T, ln R, ln C, G]``:

    T_eq = T_out + R Φ + G

the degrees the room holds above what the outdoors and the metered heating explain. It
is what the zones on the reading path run (``zone_bank``): in a room with a heating meter
``G`` takes the sun, people and other gains no sensor reads; in a room without one it is
the unmetered heating itself, which a room taken as unheated (Φ = 0, the equilibrium the
outdoor temperature) can only explain by a time constant of thousands of hours. ``step``
leaves ``G`` as it is; the filter's process noise on it makes it a slow random walk.

>>> zone = ThermalZone()
>>> state = zone.state(np.array([20.0]), resistance=np.array([5.0]), capacitance=np.array([10.0]))
>>> np.round(zone.step(state, 50.0, np.array([[0.0, 0.0]]))[:, 0], 4).tolist()  # one τ
[7.3576]
"""

from __future__ import annotations

import numpy as np

from .contract import Array


class ThermalZone:
    """The RC zone as a ``StateModel`` over a batch of zones."""

    state_names: tuple[str, ...] = ("temperature", "log_resistance", "log_capacitance")
    parameter_names: tuple[str, ...] = ("log_resistance", "log_capacitance")
    input_names: tuple[str, ...] = ("outdoor_temperature", "heating_kw")
    measurement_names: tuple[str, ...] = ("temperature",)

    @staticmethod
    def state(temperature: Array, resistance: Array, capacitance: Array) -> Array:
        """States ``(B, 3)`` from temperatures (°C), R (K/kW) and C (kWh/K)."""
        return np.column_stack(
            [temperature, np.log(np.asarray(resistance)), np.log(np.asarray(capacitance))]
        ).astype(np.float64)

    @staticmethod
    def parameters(state: Array) -> tuple[Array, Array]:
        """R (K/kW) and C (kWh/K) of each state."""
        return np.exp(state[:, 1]), np.exp(state[:, 2])

    @staticmethod
    def gain(state: Array) -> Array | float:
        """The heat gain (K) the equilibrium holds above outdoors and heating: none here."""
        return 0.0

    def _parts(self, state: Array, dt: float | Array, inputs: Array) -> tuple[Array, ...]:
        u = np.asarray(inputs, dtype=np.float64)
        if u.shape != (state.shape[0], 2):
            raise ValueError(f"inputs must be ({state.shape[0]}, 2): outdoor °C, heating kW")
        resistance, capacitance = self.parameters(state)
        tau = resistance * capacitance
        equilibrium = u[:, 0] + resistance * u[:, 1] + self.gain(state)
        decay = np.exp(-dt / tau)
        return resistance, tau, equilibrium, decay, u

    def step(self, state: Array, dt: float | Array, inputs: Array) -> Array:
        _, _, equilibrium, decay, _ = self._parts(state, dt, inputs)
        out = state.copy()
        out[:, 0] = equilibrium + (state[:, 0] - equilibrium) * decay
        return out

    def measure(self, state: Array) -> Array:
        return state[:, :1].copy()

    def step_jacobian(self, state: Array, dt: float | Array, inputs: Array) -> Array:
        resistance, tau, equilibrium, decay, u = self._parts(state, dt, inputs)
        gap = state[:, 0] - equilibrium
        # d e / d ln R = d e / d ln C = e · dt / τ; d T_eq / d ln R = R Φ
        through_decay = gap * decay * dt / tau
        size = len(self.state_names)
        J = np.broadcast_to(np.eye(size), (state.shape[0], size, size)).copy()
        J[:, 0, 0] = decay
        J[:, 0, 1] = resistance * u[:, 1] * (1.0 - decay) + through_decay
        J[:, 0, 2] = through_decay
        return J

    def measure_jacobian(self, state: Array) -> Array:
        H = np.zeros((state.shape[0], 1, len(self.state_names)))
        H[:, 0, 0] = 1.0
        return H


class HeatGainZone(ThermalZone):
    """The RC zone with an unknown heat gain ``G`` (K) in its state, ``[T, ln R, ln C, G]``
    (see the module): ``T_eq = T_out + R Φ + G``.

    >>> zone = HeatGainZone()
    >>> state = zone.state(np.array([20.0]), np.array([5.0]), np.array([10.0]), np.array([3.0]))
    >>> np.round(zone.step(state, 5000.0, np.array([[0.0, 2.0]]))[:, 0], 4).tolist()
    [13.0]
    """

    state_names: tuple[str, ...] = ("temperature", "log_resistance", "log_capacitance", "gain")
    parameter_names: tuple[str, ...] = ("log_resistance", "log_capacitance", "gain")

    @staticmethod
    def state(temperature: Array, resistance: Array, capacitance: Array,
              gain: Array | float = 0.0) -> Array:
        """States ``(B, 4)`` from temperatures (°C), R (K/kW), C (kWh/K) and gains (K)."""
        three = ThermalZone.state(temperature, resistance, capacitance)
        return np.column_stack([three, np.broadcast_to(gain, three.shape[:1])]).astype(
            np.float64)

    @staticmethod
    def gain(state: Array) -> Array | float:
        return state[:, 3]

    def step_jacobian(self, state: Array, dt: float | Array, inputs: Array) -> Array:
        J = super().step_jacobian(state, dt, inputs)
        _, _, _, decay, _ = self._parts(state, dt, inputs)
        J[:, 0, 3] = 1.0 - decay  # d T_eq / d G = 1
        return J
