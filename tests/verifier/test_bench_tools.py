"""The benchmark tools' own machinery runs end to end (they are how the issues' figures are measured)."""

from __future__ import annotations

from tests.conftest import shared_path


def test_bench_verifier_runs_any_verifier_through_bench_core_carts() -> None:
    from tools import verifier_data

    shared_path("data", "catalog", "off_products_slim.csv")  # the generated store is built from it
    figures, results = verifier_data.evaluate(77, 4, verifier_data.rule_driver, workers=1, carts=2)
    assert figures["sessions"] == len(results) == 4
    assert figures["honest"] + figures["incidents"] == 4
    assert figures["replay_speed_x_median"] > 0


def test_grip_evidence_labels_weight_out_from_the_ground_truth() -> None:
    from tools.grip_evidence import summarise, weight_outs

    shared_path("data", "catalog", "off_products_slim.csv")
    figures = summarise(weight_outs(9001, 12))
    assert figures["removals"] >= 2 and figures["others"] >= 2
    # the signal fusion's odds stand for: removals grip first, hands letting go do not
    assert figures["removals_gripped_pct"] > 50 > figures["others_gripped_pct"]
