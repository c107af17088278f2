"""Every shipped scenario through the `replay` target: compiled to cart-trace v1 with the session
generator's physics and replayed through the real cart pipeline (fast, on a simulated clock).

A scenario the current cart gets wrong stays as written (its expectation is what a correct cart
does) and is marked xfail here with the reason, strictly: when the cart is fixed the mark must go.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hil.conftest import shipped
from tools.hil.scenario import load_scenario
from tools.hil.targets import PASSED, Target, run_scenario

KNOWN_FAILURES: dict[str, str] = {}


def test_at_least_twenty_scenarios_cover_every_alert_kind() -> None:
    from tools.hil.scenario import ALERT_KINDS

    scenarios = [load_scenario(p) for p in shipped()]
    assert len(scenarios) >= 20
    expected_kinds = {a.kind for s in scenarios for a in s.expect.alerts}
    assert expected_kinds == set(ALERT_KINDS)
    assert any(not s.expect.alerts and not s.expect.review_required for s in scenarios)


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_scenario_on_replay(path: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    scenario = load_scenario(path)
    if scenario.name in KNOWN_FAILURES:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_FAILURES[scenario.name], strict=True))
    result = run_scenario(scenario, Target("replay"), tmp_path)
    assert result.status == PASSED, "; ".join(result.problems) or result.message
