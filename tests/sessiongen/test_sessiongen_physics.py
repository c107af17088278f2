"""The scale model shows the physical effects it claims: noise level, ringing after a drop, the hand on
an item, vibration while pushing, creep, and readings that add up to what is in the basket."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tools.sessiongen import generate_session
from tools.sessiongen.scale import (
    HandRest,
    Lift,
    Place,
    Push,
    counts_to_grams,
    draw_scale_params,
    measure_counts,
    render_grams,
)

SPS = 80.0


def _quiet_params(seed: int = 1, **changes):
    """A drawn cart with drift, creep and glitches switched off unless asked for."""
    p = draw_scale_params(np.random.default_rng(seed), SPS)
    base = dict(glitch_p=0.0, warmup_g=0.0, walk_g_per_sqrt_min=0.0, creep=0.0, zero_error_g=0.0)
    return replace(p, **{**base, **changes})


def _grams(params, actions, duration_s, seed=0):
    rng = np.random.default_rng(seed)
    force, _ = render_grams(params, actions, duration_s, rng)
    return counts_to_grams(params, measure_counts(params, force, rng))


def _window(g, t0, t1):
    return g[int(t0 * SPS) : int(t1 * SPS)]


def test_noise_level_matches_an_hx711_class_scale() -> None:
    for seed in range(5):
        p = _quiet_params(seed)
        g = _grams(p, [], 30.0, seed)
        assert 0.3 < p.noise_sd_g < 3.0
        assert abs(np.std(g) / p.noise_sd_g - 1) < 0.15
        assert np.allclose(np.mean(g), 0, atol=0.5)


def test_ringing_after_a_drop_then_settles() -> None:
    p = _quiet_params(2, ring_zeta=0.05)
    g = _grams(p, [Place(1.0, 0, 500.0, 0.03, 1.0)], 12.0)
    ring = _window(g, 1.03, 1.6) - 500.0
    assert np.max(np.abs(ring)) > 150  # the basket visibly rings
    assert np.max(np.abs(ring)) < 1200
    settled = _window(g, 9.0, 12.0)
    assert abs(np.median(settled) - 500.0) < 0.02 * 500 + 3 * p.noise_sd_g
    assert np.std(settled) < 1.5 * p.noise_sd_g
    gentle = _grams(p, [Place(1.0, 0, 500.0, 0.6, 0.02)], 12.0)
    assert np.max(np.abs(_window(gentle, 1.6, 2.5) - 500.0)) < 0.3 * np.max(np.abs(ring))


def test_hand_resting_on_an_item_adds_force_with_tremor() -> None:
    p = _quiet_params(3)
    g = _grams(p, [Place(1.0, 0, 300.0, 0.3, 0.0, HandRest(120.0, 2.0, 0.3))], 10.0)
    held = _window(g, 1.5, 3.1)
    assert 380 < np.mean(held) < 460
    assert np.std(held) > 2 * p.noise_sd_g  # tremor and sway, not a flat line
    assert abs(np.median(_window(g, 5.0, 10.0)) - 300.0) < 10


def test_pushing_shakes_the_basket_far_beyond_the_noise() -> None:
    p = _quiet_params(4)
    g = _grams(p, [Place(1.0, 0, 2000.0, 0.4, 0.05), Push(5.0, 20.0, 1.0)], 30.0)
    assert np.std(_window(g, 6.0, 19.0)) > 50 * p.noise_sd_g
    assert abs(np.median(_window(g, 25.0, 30.0)) - 2000.0) < 30


def test_creep_under_a_heavy_load() -> None:
    p = _quiet_params(5, creep=0.0008, creep_tau_s=120.0)
    g = _grams(p, [Place(1.0, 0, 9000.0, 0.8, 0.05)], 600.0)
    early = np.median(_window(g, 5.0, 8.0))
    late = np.median(_window(g, 590.0, 600.0))
    assert 4.0 < late - early < 9.0  # 0.08 % of 9 kg, nearly all reached after 5 tau
    g_off = _grams(p, [Place(1.0, 0, 9000.0, 0.8, 0.05), Lift(300.0, 0, 9000.0, 20.0, 0.2, 0.4, 0.05)], 600.0)
    assert abs(np.median(_window(g_off, 590.0, 600.0))) < 3.0  # unloading recovers


def test_glitches_are_single_samples() -> None:
    p = _quiet_params(6, glitch_p=2e-3)
    g = _grams(p, [], 60.0)
    outliers = np.flatnonzero(np.abs(g) > 500)
    assert 3 <= outliers.size <= 30
    assert np.all(np.diff(outliers) > 1)


def test_session_readings_add_up_to_the_basket(store) -> None:
    for i in range(6):
        session = generate_session(store, [61, i], "p", "honest", unit="counts")
        h = session.lines[0]["scale"]
        values = np.concatenate([line["values"] for line in session.lines if line["type"] == "scale"])
        g = (values - h["offset"]) / h["counts_per_gram"]
        in_cart = sum(u["weight_g"] for u in session.truth["units"] if u["t_out"] is None)
        start, end = np.median(g[: int(0.8 * SPS)]), np.median(g[-int(2 * SPS) :])
        assert abs(start) < 15  # the zero moved since calibration, a little
        assert abs(end - start - in_cart) < 0.01 * in_cart + 30
