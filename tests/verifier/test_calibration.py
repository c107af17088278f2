"""The model's score on the rule's scale: the calibration table, its shape, and p-values of true fits."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from firmware.core.verifier import FitQuery, RuleVerifier
from firmware.verifier_model import MODEL_DIR, MODEL_FILES, ModelUnavailable, ModelVerifier, calibration
from firmware.verifier_model.calibration import CALIBRATION_FILE, Calibration
from tests.conftest import shared_path


def shipped(variant: str) -> Calibration:
    table = calibration.load(MODEL_DIR, variant)
    assert table is not None
    return table


def test_the_calibration_ships_beside_the_model_for_both_variants() -> None:
    path = MODEL_DIR / CALIBRATION_FILE
    assert path.is_file()
    assert path.stat().st_size < 32_000  # a small table, not the calibration data
    data = json.loads(path.read_text())
    assert data["format"] == calibration.FORMAT
    assert set(data["variants"]) == set(MODEL_FILES)
    assert data["true_fits"] >= 5000
    for variant in MODEL_FILES:
        table = shipped(variant)
        assert 20 <= len(table.logits) <= 200
        assert math.exp(table.log_p[-1]) == pytest.approx(1.0)  # the best true fits score 1, as an exact fit does


@pytest.mark.parametrize("variant", sorted(MODEL_FILES))
def test_p_value_is_monotonic_continuous_and_within_0_1(variant: str) -> None:
    table = shipped(variant)
    grid = np.linspace(table.logits[0] - 40.0, table.logits[-1] + 5.0, 4001)
    p = np.array([table.p_value(float(z)) for z in grid])
    assert ((p >= 0.0) & (p <= 1.0)).all()
    assert (np.diff(p) >= 0).all()
    # strictly increasing below the top knot: the tail keeps the network's ordering of misfits
    below = grid < table.logits[-1]
    assert (np.diff(p[below]) > 0).all()
    # no jump where the table meets its tail, nor at any knot
    for z in table.logits:
        assert table.p_value(z - 1e-9) == pytest.approx(table.p_value(z + 1e-9), rel=1e-6, abs=1e-12)
    assert table.p_value(-1e9) == 0.0


def test_built_table_gives_true_fits_uniform_p_values() -> None:
    """Fresh draws from the calibration distribution get p ~ uniform; the tail below keeps falling."""
    rng = np.random.default_rng(7)
    calibrating = rng.logistic(4.0, 1.5, 20000)
    table = calibration.build(calibrating)
    fresh = np.array([table.p_value(float(z)) for z in rng.logistic(4.0, 1.5, 20000)])
    for level in (0.002, 0.01, 0.1, 0.5, 0.9):
        assert (fresh < level).mean() == pytest.approx(level, abs=max(0.002, 0.1 * level))
    lowest = table.logits[0]
    assert table.p_value(lowest - 10) == pytest.approx(table.p_value(lowest) * math.exp(-10 * table.tail_slope))


def test_ties_collapse_and_round_trip_through_the_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    quantized = np.round(rng.normal(3.0, 2.0, 5000) / 0.18) * 0.18  # an int8 output takes few values
    table = calibration.build(quantized)
    assert len(set(table.logits)) == len(table.logits)
    calibration.write(tmp_path / CALIBRATION_FILE, {"float": table}, {"seeds": [1]})
    again = calibration.load(tmp_path, "float")
    assert again is not None
    for z in (-20.0, -1.0, 0.3, 3.0, 7.5, 20.0):
        assert again.p_value(z) == pytest.approx(table.p_value(z), rel=1e-5, abs=1e-12)
    with pytest.raises(ValueError, match="int8"):
        calibration.load(tmp_path, "int8")


def test_a_table_must_increase() -> None:
    with pytest.raises(ValueError):
        Calibration((0.0, 0.0), (math.log(0.5), 0.0))
    with pytest.raises(ValueError):
        Calibration((0.0, 1.0), (0.0, math.log(0.5)))
    with pytest.raises(ValueError, match="too few"):
        calibration.build([1.0] * 50)


# -- the shipped model, calibrated (needs a TFLite runtime) ---------------------------------------


@pytest.fixture(scope="module")
def models() -> dict[str, ModelVerifier]:
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed")
    return {variant: ModelVerifier(variant) for variant in MODEL_FILES}


def test_verifier_returns_the_calibrated_p_value(models: dict[str, ModelVerifier]) -> None:
    query = FitQuery(412.0, 400.0, None, noise_g=0.8, settle_s=1.2, since_scan_s=4.0, basket_load_g=1800.0)
    for variant, model in models.items():
        assert model.calibration is not None
        assert model.fit(query) == pytest.approx(shipped(variant).p_value(model.logit(query)))
    raw = ModelVerifier("float", calibrated=False)
    z = raw.logit(query)
    assert raw.fit(query) == pytest.approx(1 / (1 + math.exp(-z)))


def test_a_model_without_its_calibration_is_unavailable(tmp_path: Path) -> None:
    pytest.importorskip("ai_edge_litert", reason="ai-edge-litert is not installed")
    (tmp_path / MODEL_FILES["float"]).write_bytes((MODEL_DIR / MODEL_FILES["float"]).read_bytes())
    with pytest.raises(ModelUnavailable, match="calibration"):
        ModelVerifier("float", tmp_path)
    assert ModelVerifier("float", tmp_path, calibrated=False).calibration is None


def test_true_fits_in_fresh_sessions_score_about_uniformly(models: dict[str, ModelVerifier]) -> None:
    """On questions the core really asks (a store never used to train or calibrate), the changes
    that truly fit get p-values spread over [0, 1] as the rule's are meant to be: few below 0.002."""
    from tools import verifier_data
    from tools.sessiongen.dataset import session_kinds

    shared_path("data", "catalog", "off_products_slim.csv")  # the generated store is built from it
    seed, sessions = 4343, 60
    verifier_data._init(verifier_data.rule_driver)
    jobs = [(seed, index, kind) for index, kind in enumerate(session_kinds(sessions, 0.0, seed))]
    parts = verifier_data.collect_cart(jobs)
    x = np.concatenate([part["x"] for part in parts])
    y = np.concatenate([part["y"] for part in parts])
    kind = np.concatenate([part["query_kind"] for part in parts])
    fits = x[(y == 1) & (kind == verifier_data.KIND_PLACE)]  # removals are the rule's
    assert len(fits) >= 500
    for variant, model in models.items():
        table = model.calibration
        assert table is not None
        p = np.array([table.p_value(model.logit_features(row)) for row in fits])
        assert (p < 0.002).mean() <= 0.01, variant
        assert 0.03 <= (p < 0.1).mean() <= 0.2, variant
        assert 0.35 <= (p < 0.5).mean() <= 0.65, variant
        assert (p > 0.9).mean() >= 0.04, variant  # good fits are not all squeezed near 1 or 0


def test_rule_scale_reference() -> None:
    """The scale the calibration aims at: the rule's score for a true fit is a p-value."""
    rule = RuleVerifier()
    rng = random.Random(11)
    scores = []
    for _ in range(4000):
        query = FitQuery(0.0, 500.0, 5.0, noise_g=0.0)
        spread = rule.spread_g(query)
        scores.append(rule.fit(FitQuery(500.0 + rng.gauss(0.0, spread), 500.0, 5.0, noise_g=0.0)))
    below = sum(s is not None and s < 0.1 for s in scores) / len(scores)
    assert below == pytest.approx(0.1, abs=0.02)
