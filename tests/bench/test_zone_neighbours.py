"""``twinsync bench zone-neighbours``: rooms beside each other, tracked with and without
their neighbours (a short run: the figures' shape and that the neighbours are learned)."""

from __future__ import annotations

import argparse

from twinsync.bench import zone_neighbours


def test_the_zone_with_neighbours_predicts_coupled_rooms_better_and_learns_their_share() -> None:
    figures = zone_neighbours.run(argparse.Namespace(
        floors=2, rooms=6, days=14, seeds=[4], share=0.5, logit_sd=0.75,
        partition=[0.2, 1.5]))
    seed = figures["4"]
    alone, coupled = seed["without_neighbours"], seed["with_neighbours"]
    # the model fits the rooms it is given: its innovations are what it claims
    assert 0.8 < coupled["misfit"]["median"] < 1.2
    assert (coupled["given_inputs_rmse_k"]["24h"]["all"]
            < alone["given_inputs_rmse_k"]["24h"]["all"])
    assert coupled["tau_error_pct"]["median"] < alone["tau_error_pct"]["median"]
    assert coupled["tau_error_pct"]["median"] < 25
    assert coupled["share_error_points"]["median"] < 15
    assert coupled["c_error_pct_heated"]["median"] < 5
