from __future__ import annotations

import dataclasses

from firmware.core.verifier import FitQuery, RuleVerifier

RULE = RuleVerifier()
GUM_10G_HEAVY = FitQuery(measured_g=31.5, expected_g=21.5, expected_sd_g=None, noise_g=1.0)


def test_a_heavy_lot_that_may_have_been_knocked_widens_the_fit() -> None:
    alone = RULE.fit(GUM_10G_HEAVY)
    assert alone is not None and alone < 1e-4
    case = RULE.fit(FitQuery(measured_g=31.5, expected_g=21.5, expected_sd_g=None, noise_g=1.0, lumps_g=(9100.0,)))
    assert case is not None and case > 0.01
    # one heavy lot among many: the placement knocked that one only as often as any other
    among = RULE.fit(
        FitQuery(measured_g=31.5, expected_g=21.5, expected_sd_g=None, noise_g=1.0, lumps_g=(9100.0,) + (200.0,) * 19)
    )
    assert among is not None and alone < among < case / 10


def test_light_lots_and_removals_are_judged_as_before() -> None:
    alone = RULE.fit(GUM_10G_HEAVY)
    light = RULE.fit(
        FitQuery(measured_g=31.5, expected_g=21.5, expected_sd_g=None, noise_g=1.0, lumps_g=(120.0, 150.0))
    )
    assert light == alone
    removal = FitQuery(measured_g=31.5, expected_g=21.5, expected_sd_g=None, noise_g=1.0, measured=True)
    assert RULE.fit(removal) == RULE.fit(dataclasses.replace(removal, lumps_g=(9100.0,)))


def test_distance_counts_spreads_and_a_knock_only_adds_to_the_fit() -> None:
    spread = RULE.spread_g(GUM_10G_HEAVY)
    assert abs(RULE.distance(GUM_10G_HEAVY) - 10.0 / spread) < 1e-9
    assert RULE.knock_share(GUM_10G_HEAVY) == 0.0
    knocked = dataclasses.replace(GUM_10G_HEAVY, lumps_g=(9100.0, 120.0))
    assert RULE.distance(knocked) == RULE.distance(GUM_10G_HEAVY)
    share = RULE.knock_share(knocked)
    assert share > 0.001 and RULE.fit(knocked) == RULE.fit(GUM_10G_HEAVY) + share
    assert RULE.knock_share(dataclasses.replace(knocked, measured=True)) == 0.0
