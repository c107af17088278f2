"""The benchmark's failure causes, each told from a hand-made truth and report."""

from __future__ import annotations

from typing import Any

from tools.failure_causes import NEAR_TWIN, OTHER, PRODUCE_GRAMS, UNKNOWN_LUMP, UNKNOWN_SWAP, failure_cause
from tools.scoring import score

JAM, TEA, GUM, BANANAS = "4000000000037", "4000000000044", "96385074", "4011"
WEIGHS = {JAM: (None, False), TEA: (120.0, False), GUM: (21.5, False), BANANAS: (None, True)}


def unit(code: str, grams: float, t_in: float, t_out: float | None = None) -> dict[str, Any]:
    return {"code": code, "weight_g": grams, "t_in": t_in, "t_out": t_out}


def item(code: str, qty: int, cents: int, grams: float | None = None) -> dict[str, Any]:
    return {"code": code, "name": code, "qty": qty, "weight_g": grams, "amount_cents": cents}


def truth(items: list[dict[str, Any]], units: list[dict[str, Any]], incident: dict | None = None) -> dict[str, Any]:
    return {"kind": incident["kind"] if incident else "honest", "incident": incident, "items": items, "units": units}


def report(items: list[dict[str, Any]], reasons: list[str]) -> dict[str, Any]:
    return {"items": items, "alerts": [], "review": {"required": bool(reasons), "reasons": reasons}}


def cause(t: dict[str, Any], r: dict[str, Any]) -> str | None:
    return failure_cause(score(r, t), t, r, WEIGHS)


def test_a_session_that_did_not_fail_has_no_cause() -> None:
    t = truth([item(TEA, 1, 199)], [unit(TEA, 120.4, 5.0)])
    assert cause(t, report([item(TEA, 1, 199)], [])) is None


def test_jars_of_unknown_weight_in_together_billed_as_one() -> None:
    t = truth([item(JAM, 2, 500)], [unit(JAM, 341.0, 10.0), unit(JAM, 339.0, 11.2)])
    assert cause(t, report([item(JAM, 1, 250)], ["scan_not_placed"])) == UNKNOWN_LUMP
    apart = truth([item(JAM, 2, 500)], [unit(JAM, 341.0, 10.0), unit(JAM, 339.0, 40.0)])
    assert cause(apart, report([item(JAM, 1, 250)], ["scan_not_placed"])) == OTHER  # one by one: the cart's doing


def test_a_removal_with_a_near_twin_left_in_the_basket() -> None:
    units = [unit(TEA, 120.4, 5.0, 60.0), unit(GUM, 21.5, 8.0), unit(JAM, 122.1, 20.0)]
    t = truth([item(GUM, 1, 99), item(JAM, 1, 250)], units)
    r = report([item(TEA, 1, 199), item(GUM, 1, 99)], ["removal_unidentified"])
    assert cause(t, r) == NEAR_TWIN
    far = [unit(TEA, 120.4, 5.0, 60.0), unit(GUM, 21.5, 8.0), unit(JAM, 341.0, 20.0)]
    assert cause(truth(t["items"], far), r) == OTHER


def test_a_swap_of_a_product_nobody_knows_the_weight_of() -> None:
    swap = {"kind": "swap", "scanned_code": JAM, "placed_code": TEA}
    t = truth([item(TEA, 1, 199)], [unit(TEA, 120.4, 5.0)], swap)
    assert cause(t, report([item(JAM, 1, 250)], [])) == UNKNOWN_SWAP
    known = {"kind": "swap", "scanned_code": GUM, "placed_code": TEA}
    assert cause(truth(t["items"], t["units"], known), report([item(GUM, 1, 99)], [])) == OTHER
    assert cause(t, report([item(JAM, 1, 250)], ["weight_mismatch"])) is None  # caught


def test_produce_weighed_a_few_percent_off() -> None:
    t = truth([item(BANANAS, 1, 48, 240.0)], [unit(BANANAS, 240.0, 5.0)])
    assert cause(t, report([item(BANANAS, 1, 51, 254.4)], [])) == PRODUCE_GRAMS
