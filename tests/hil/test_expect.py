"""The expectation checker: each way a report can differ from a correct cart's is caught."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.hil.conftest import SCENARIOS
from tools.hil.compiler import Compiled, compile_scenario
from tools.hil.expect import check
from tools.hil.scenario import load_scenario


@pytest.fixture(scope="module")
def produce(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    scenario = load_scenario(SCENARIOS / "quick-produce-and-removal.yaml")
    return compile_scenario(scenario, tmp_path_factory.mktemp("hil") / "t")


@pytest.fixture(scope="module")
def unscanned(tmp_path_factory: pytest.TempPathFactory) -> Compiled:
    scenario = load_scenario(SCENARIOS / "quick-unscanned-item.yaml")
    return compile_scenario(scenario, tmp_path_factory.mktemp("hil") / "t")


GOOD_PRODUCE: dict[str, Any] = {
    "items": [{"code": "4011", "name": "Bananas", "qty": 1, "weight_g": 614.2, "amount_cents": 122}],
    "total_cents": 122,
    "alerts": [],
    "review": {"required": False, "reasons": []},
}
GOOD_UNSCANNED: dict[str, Any] = {
    "items": [
        {"code": "0471100930007", "name": "Tinned tomatoes 400 g", "qty": 1, "weight_g": None, "amount_cents": 129}
    ],
    "total_cents": 129,
    "alerts": [{"t": 12.0, "kind": "unscanned_item", "resolved": False}],
    "review": {"required": True, "reasons": ["unscanned_item", "basket_weight_disagrees"]},
}


def test_correct_reports_pass(produce: Compiled, unscanned: Compiled) -> None:
    assert check(GOOD_PRODUCE, produce) == []
    assert check(GOOD_UNSCANNED, unscanned) == []  # EAN-13 form of the UPC-A, extra review reason


def edited(report: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(report)
    out.update(changes)
    return out


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"items": [{**GOOD_PRODUCE["items"][0], "weight_g": 640.0, "amount_cents": 127}], "total_cents": 127},
            "Bananas: billed 640.0 g, expected 612.0 g",
        ),
        ({"items": [], "total_cents": 0}, "Bananas: not billed"),
        (
            {
                "items": [
                    *GOOD_PRODUCE["items"],
                    {
                        "code": "471702790603",
                        "name": "Dark chocolate 100 g",
                        "qty": 1,
                        "weight_g": None,
                        "amount_cents": 219,
                    },
                ],
                "total_cents": 341,
            },
            "Dark chocolate 100 g: billed (qty 1) but the correct bill has none",
        ),
        ({"total_cents": 150}, "total 150 cents, expected 122"),
        (
            {"alerts": [{"t": 5.0, "kind": "unscanned_item", "resolved": True}]},
            "unexpected alert unscanned_item (resolved) x1 at t=5.0",
        ),
        (
            {"review": {"required": True, "reasons": ["basket_weight_disagrees"]}},
            "review required (reasons: basket_weight_disagrees), expected none",
        ),
    ],
)
def test_differences_are_named(produce: Compiled, changes: dict[str, Any], problem: str) -> None:
    problems = check(edited(GOOD_PRODUCE, **changes), produce)
    assert any(problem in p for p in problems), problems


def test_alert_state_and_review_reasons(unscanned: Compiled) -> None:
    resolved = edited(GOOD_UNSCANNED, alerts=[{"t": 12.0, "kind": "unscanned_item", "resolved": True}])
    assert any(
        "unscanned_item left open expected, not shown (shown resolved instead)" in p for p in check(resolved, unscanned)
    )
    no_reason = edited(GOOD_UNSCANNED, review={"required": True, "reasons": ["basket_weight_disagrees"]})
    assert any("review reason 'unscanned_item' missing" in p for p in check(no_reason, unscanned))
    two = edited(GOOD_UNSCANNED, items=[{**GOOD_UNSCANNED["items"][0], "qty": 2, "amount_cents": 258}], total_cents=258)
    assert any("billed qty 2, expected 1" in p for p in check(two, unscanned))


def test_unknown_expected_product_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("steps:\n  - checkout\nexpect:\n  items: [caviar]\n  alerts: []\n  review: false\n")
    compiled = compile_scenario(load_scenario(path), tmp_path / "t")
    problems = check({"items": [], "total_cents": 0, "alerts": [], "review": {"required": False}}, compiled)
    assert any("'caviar', which is not in the catalog" in p for p in problems)
