"""The TFLite verifier: loads with ai-edge-litert, float and int8 agree, sane shape, replays the example."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from firmware.core.verifier import FitQuery, RuleVerifier
from firmware.verifier_model import ENVELOPE_SDS, ModelUnavailable, ModelVerifier, model_path
from firmware.verifier_model.features import N_FEATURES, query_features
from firmware.verifiers import VERIFIER_NAMES, make_verifier

pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed")


@pytest.fixture(scope="module")
def float_model() -> ModelVerifier:
    return ModelVerifier("float")


@pytest.fixture(scope="module")
def int8_model() -> ModelVerifier:
    return ModelVerifier("int8")


def grid() -> list[FitQuery]:
    queries = []
    for expected, rel, units, noise, learned, produce, sd in itertools.product(
        (15.0, 120.0, 480.0, 1500.0, 9300.0),
        (-0.4, -0.1, -0.03, 0.0, 0.02, 0.06, 0.3),
        (1, 3),
        (0.6, 3.0),
        (False, True),
        (False, True),
        (None, 0.04),
    ):
        queries.append(
            FitQuery(
                measured_g=expected * (1 + rel),
                expected_g=expected,
                expected_sd_g=None if sd is None else sd * expected,
                units=units,
                noise_g=noise,
                settle_s=1.5,
                since_scan_s=3.0,
                basket_load_g=2500.0,
                learned=learned,
                produce=produce,
                pending_units=1,
            )
        )
    return queries


def test_both_models_load_with_ai_edge_litert(float_model: ModelVerifier, int8_model: ModelVerifier) -> None:
    assert float_model.runtime == "ai_edge_litert"
    assert int8_model.runtime == "ai_edge_litert"
    assert float_model.name == "model" and int8_model.name == "model-int8"
    for variant in ("float", "int8"):
        assert 0 < model_path(variant).stat().st_size < 64_000


def test_float_and_int8_agree_on_a_grid(float_model: ModelVerifier, int8_model: ModelVerifier) -> None:
    queries = grid()
    logits_f = [float_model.logit(q) for q in queries]
    logits_q = [int8_model.logit(q) for q in queries]
    span = max(logits_f) - min(logits_f)
    errors = sorted(abs(a - b) for a, b in zip(logits_f, logits_q, strict=True))
    assert errors[len(errors) // 2] < 0.05 * span  # median
    assert errors[int(0.95 * len(errors))] < 0.15 * span
    # the decisions the core makes with them (accept at 0.002) mostly agree
    accept = [(float_model.fit(q) or 0) >= 0.002 for q in queries]
    accept_q = [(int8_model.fit(q) or 0) >= 0.002 for q in queries]
    assert sum(a == b for a, b in zip(accept, accept_q, strict=True)) >= 0.9 * len(queries)


@pytest.mark.parametrize("expected_g", [25.0, 150.0, 450.0, 1000.0, 2500.0, 9000.0])
@pytest.mark.parametrize("learned", [False, True])
def test_an_exact_change_scores_higher_than_one_40_percent_off(
    float_model: ModelVerifier, int8_model: ModelVerifier, expected_g: float, learned: bool
) -> None:
    for model in (float_model, int8_model):
        exact = model.fit(FitQuery(expected_g, expected_g, None, noise_g=1.0, learned=learned))
        heavy = model.fit(FitQuery(expected_g * 1.4, expected_g, None, noise_g=1.0, learned=learned))
        light = model.fit(FitQuery(expected_g * 0.6, expected_g, None, noise_g=1.0, learned=learned))
        assert exact is not None and heavy is not None and light is not None
        assert exact > heavy and exact > light
        assert exact >= 0.002  # the core accepts it


def test_unknown_expected_weight_cannot_be_judged(float_model: ModelVerifier) -> None:
    assert float_model.fit(FitQuery(500.0, None, None)) is None
    with pytest.raises(ValueError):
        query_features(FitQuery(500.0, None, None))


def test_features_are_bounded_for_extreme_queries() -> None:
    extreme = FitQuery(1e6, 0.01, 1e5, units=50, noise_g=1e4, settle_s=1e6, since_scan_s=-5, basket_load_g=1e7)
    values = query_features(extreme)
    assert len(values) == N_FEATURES
    assert all(-5.0 <= v <= 10.0 for v in values)


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not found"):
        ModelVerifier("float", tmp_path)
    (tmp_path / "verifier_float.tflite").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="not a usable TFLite model"):
        ModelVerifier("float", tmp_path)
    with pytest.raises(ValueError, match="unknown model variant"):
        ModelVerifier("fp16")


def test_registered_by_name() -> None:
    assert VERIFIER_NAMES[0] == "rule"
    assert make_verifier("model").name == "model"
    assert make_verifier("model-int8").name == "model-int8"


@pytest.mark.parametrize("name", ["model", "model-int8"])
def test_example_replays_to_the_expected_report(tmp_path: Path, example_trace: Path, name: str) -> None:
    assert main(["replay", str(example_trace), "--out", str(tmp_path), "--verifier", name, "--quiet"]) == 0
    report = json.loads((tmp_path / "example.json").read_text())
    expected = json.loads((example_trace / "expected-report.json").read_text())
    for key in ("version", "session_id", "items", "total_cents", "alerts", "review"):
        assert report[key] == expected[key], key
    assert report["stats"]["verifier"] == name


@pytest.mark.parametrize("learned", [False, True])
def test_a_gross_misfit_is_held_under_the_rules_wide_envelope(
    float_model: ModelVerifier, int8_model: ModelVerifier, learned: bool
) -> None:
    rule = RuleVerifier()
    for expected, measured, units in ((31.7, 103.6, 1), (81.0, 127.0, 2), (1086.0, 3259.0, 1)):
        query = FitQuery(measured, expected, None, units=units, noise_g=0.8, learned=learned, pending_units=2)
        cap = math.erfc(rule.distance(query) / (ENVELOPE_SDS * math.sqrt(2.0)))
        for model in (float_model, int8_model):
            score = model.fit(query)
            assert score is not None and score <= cap and score < 2e-5  # below the core's revision level too


def test_the_envelope_leaves_a_near_fit_to_the_network() -> None:
    capped, free = ModelVerifier("float"), ModelVerifier("float", envelope_sds=None)
    for expected in (25.0, 450.0, 2500.0):
        for rel in (0.0, 0.03, -0.06, 0.12):
            query = FitQuery(expected * (1 + rel), expected, None, noise_g=1.0)
            assert capped.fit(query) == free.fit(query)


def test_a_knocked_heavy_lot_is_allowed_the_rules_way(float_model: ModelVerifier) -> None:
    alone = FitQuery(31.5, 21.5, None, noise_g=1.0)
    knocked = FitQuery(31.5, 21.5, None, noise_g=1.0, lumps_g=(9100.0, 120.0))
    share = RuleVerifier().knock_share(knocked)
    assert share > 0.001
    assert float_model.fit(knocked) == pytest.approx(min(1.0, (float_model.fit(alone) or 0.0) + share))


def test_a_removal_is_judged_against_the_units_own_weighing(float_model: ModelVerifier) -> None:
    """2718-00280: 286.5 g came out; one unit went in weighing 286.4 g, another 273.8 g."""
    same = FitQuery(286.5, 286.4, 0.5, measured=True, learned=True, noise_g=1.1)
    other = FitQuery(286.5, 273.8, 0.5, measured=True, learned=True, noise_g=1.1)
    assert float_model.fit(same) == RuleVerifier().fit(same)
    assert (float_model.fit(same) or 0.0) > 0.5 and (float_model.fit(other) or 1.0) < 1e-6
