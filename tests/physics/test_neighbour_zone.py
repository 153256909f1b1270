"""The zone with neighbours: its blend of outdoors and neighbours, its derivative, and the
rooms it is checked on (``simulate.coupled_readings``)."""

from __future__ import annotations

import numpy as np
import pytest

from twinsync.physics.contract import StateModel
from twinsync.physics.neighbour_zone import NeighbourZone, share_of
from twinsync.physics.simulate import coupled_readings, row_neighbours
from twinsync.physics.thermal import HeatGainZone

from .derivative import assert_jacobian_is_the_derivative


def test_the_zone_with_neighbours_follows_the_contract() -> None:
    assert isinstance(NeighbourZone(), StateModel)


def test_it_settles_at_the_blend_of_outdoors_and_neighbours_plus_heating_and_gain() -> None:
    zone = NeighbourZone()
    state = zone.state(np.array([0.0]), np.array([4.0]), np.array([10.0]), np.array([1.5]),
                       share=0.4)
    settled = zone.step(state, 5000.0, np.array([[2.0, 3.0, 20.0]]))
    assert settled[0, 0] == pytest.approx(0.6 * 2.0 + 0.4 * 20.0 + 4.0 * 3.0 + 1.5)
    np.testing.assert_array_equal(settled[0, 1:], state[0, 1:])  # parameters stay


def test_neighbours_at_the_outdoor_temperature_make_it_the_zone_without_them() -> None:
    rng = np.random.default_rng(3)
    zones = 6
    temperature, outdoor, heating = (rng.uniform(-5, 25, zones) for _ in range(3))
    resistance, capacitance = rng.uniform(2, 10, zones), rng.uniform(5, 30, zones)
    gain = rng.normal(0, 2, zones)
    coupled = NeighbourZone.state(temperature, resistance, capacitance, gain,
                                  share=rng.uniform(0.05, 0.95, zones))
    alone = HeatGainZone.state(temperature, resistance, capacitance, gain)
    stepped = NeighbourZone().step(coupled, 0.8, np.column_stack([outdoor, heating, outdoor]))
    expected = HeatGainZone().step(alone, 0.8, np.column_stack([outdoor, heating]))
    np.testing.assert_allclose(stepped[:, 0], expected[:, 0], rtol=1e-12)


def test_its_jacobian_is_the_derivative_of_its_step() -> None:
    zone = NeighbourZone()
    state = zone.state(np.array([18.0, 5.0]), np.array([4.0, 2.0]), np.array([12.0, 30.0]),
                       np.array([3.0, -1.5]), share=np.array([0.3, 0.7]))
    inputs = np.array([[-3.0, 2.5, 19.0], [10.0, -1.0, 4.0]])
    assert_jacobian_is_the_derivative(zone, state, 0.7, inputs)


def test_the_resistances_apart_are_the_total_split_by_the_share() -> None:
    state = NeighbourZone.state(np.array([20.0]), np.array([3.0]), np.array([10.0]),
                                share=0.25)
    outdoors, neighbours = NeighbourZone.resistances(state)
    assert float(share_of(state[:, 4])[0]) == pytest.approx(0.25)
    assert outdoors[0] == pytest.approx(4.0) and neighbours[0] == pytest.approx(12.0)
    # in parallel they are the total again
    assert 1 / (1 / outdoors[0] + 1 / neighbours[0]) == pytest.approx(3.0)


def test_a_row_of_rooms_neighbours_the_rooms_beside_it_on_its_floor_only() -> None:
    beside = row_neighbours(2, 3)
    assert beside.sum(axis=1).tolist() == [1, 2, 1, 1, 2, 1]
    assert beside[2, 3] == 0  # the end of one floor is not the start of the next
    np.testing.assert_array_equal(beside, beside.T)


def test_coupled_rooms_settle_where_the_heat_balance_of_every_room_says() -> None:
    beside = row_neighbours(1, 4)
    envelope = np.array([4.0, 6.0, 5.0, 8.0])
    partition = np.array([3.0, 9.0, 6.0, 4.0])
    capacitance = np.array([5.0, 8.0, 6.0, 4.0])
    steps = 96 * 30
    outdoor = np.full((4, steps), 2.0)
    heating = np.zeros((4, steps))
    heating[0], heating[2] = 3.0, 1.0
    rooms = coupled_readings(np.zeros(4), envelope, partition, capacitance, beside, outdoor,
                             heating, 0.25, 0.0, 0.0, np.random.default_rng(0))
    conductance = beside / (0.5 * (partition[:, None] + partition[None, :]))
    balance = np.diag(1 / envelope + conductance.sum(axis=1)) - conductance
    settled = np.linalg.solve(balance, heating[:, 0] + 2.0 / envelope)
    np.testing.assert_allclose(rooms[:, -1], settled, rtol=1e-6)
    assert settled[1] > 2.5  # the unheated room is warmed by its neighbours
