"""Writes `firmware/verifier_model/MODEL_CARD.md` from the training log of `tools/train_verifier.py`."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist
from typing import Any

from firmware.core.matching import MatchLimits
from firmware.verifier_model import ENVELOPE_SDS

FEATURE_DOC = {
    "rel_residual": "(measured - expected) / expected, clipped to +-1",
    "rule_z": "(measured - expected) / the statistical rule's spread, clipped to +-12, divided by 4",
    "residual_log_g": "sign x log1p(|measured - expected| in grams) / 4",
    "expected_log_g": "log10(expected grams) / 2 - 1",
    "sd_known": "1 when the catalog (weight_sd_g) or a measurement gives the expected weight's spread",
    "sd_rel": "that spread / expected x 10, clipped to 3 (0 when unknown)",
    "units_log": "log2(candidate units) / 2",
    "noise_log_g": "log1p(sample spread while the change settled, g)",
    "settle_log_s": "log1p(seconds the basket moved before it came to rest) / 2",
    "since_scan_log_s": "log1p(seconds since the newest candidate unit was scanned) / 3",
    "load_log_kg": "log1p(basket load in kg) / 2",
    "by_weight": "1 for goods sold by weight",
    "learned": "1 when the expected weight was measured in this session (earlier placements, or the unit itself)",
    "produce": "1 for loose produce (PLU codes)",
    "pending_log": "log1p(units scanned and not yet placed) / 2",
    "rule_z_log": "sign x log1p(|measured - expected| / the rule's spread) / 3, clipped to +-4",
}


def _fig_row(name: str, fig: dict[str, Any]) -> str:
    return (
        f"| {name} | {fig['honest_reviews_per_1000']} | {fig['honest_alerts_per_session']} | "
        f"{fig['incidents_caught_pct']} | {fig['silent_overcharges']} | {fig['honest_billed_exactly_pct']} |"
    )


def write_model_card(path: Path, log: dict[str, Any], features: tuple[str, ...], hidden: tuple[int, ...]) -> None:
    args = log["args"]
    cal = log["calibration"]
    lines = [
        "# Model card: the cart's weight verifier (TFLite)",
        "",
        "Written by `tools/train_verifier.py`; do not edit by hand (retrain instead). The full log,",
        "with every figure below, is `training_log.json` beside this file.",
        "",
        "## What it does",
        "",
        "At each settled weight change the cart core asks, for each candidate group of scanned units,",
        "whether the change fits (`firmware/core/verifier.py`). The network estimates P(fits): the",
        "probability that exactly those products went in at that change (a removal is the rule's, below). With no",
        "expected weight known the verifier answers None (the core's unverified path), as the rule does.",
        "",
        f"Network: {len(features)} inputs, dense {' -> '.join(str(h) for h in hidden)} (ReLU), one output: the",
        "logit of P(fits) (a logit keeps resolution in the tail under int8 quantization).",
        f"Parameters: {log['params']}. Files: `verifier_float.tflite` ({log['sizes_bytes']['float']} bytes),",
        f"`verifier_int8.tflite` ({log['sizes_bytes']['int8']} bytes, int8 in and out, full-integer ops),",
        "`verifier_calibration.json` (the two calibration tables).",
        f"Trained with TensorFlow {log['tensorflow']} in {log['train_wall_s']} s.",
        "",
        "## Inputs (`firmware/verifier_model/features.py`)",
        "",
        "| # | input | transform |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {i} | `{name}` | {FEATURE_DOC.get(name, '')} |" for i, name in enumerate(features)]
    lines += [
        "",
        "## Training data",
        "",
        "Generated sessions (`tools/sessiongen`, the catalog errors and missing weights of its world:",
        "about 4 % of catalog weights 4-6 % off, 4 % missing, produce, twins, put-backs, and half the",
        "sessions with one incident each), replayed through the real pipeline; every question the core",
        "asks the verifier is logged with the units it concerns and labelled from ground truth",
        "(`tools/verifier_data.py`: a fit when units of exactly those products went in, or out, within",
        "30 s before the change began (the question's time less how long the basket moved before it",
        "settled) and their true weights explain the measured change within",
        "4 g + 3 x noise + 3 %). Questions asked without units (a held change taken out again) are not",
        "labelled. Questions about units of unknown weight never reach a verifier. The network is trained",
        "and calibrated on the placement questions only (removals are the rule's, see below).",
        "",
        f"- round 1: stores (seeds) {args['round1_seeds']}, {args['sessions_per_store']} sessions each, "
        "the rule driving:",
        f"  `{log['round1']}`",
        f"- round 2: stores {args['round2_seeds']}, {args['sessions_per_store']} sessions each, "
        "the round-1 model (calibrated) driving",
        f"  (questions the rule never asks): `{log['round2']}`",
        f"- trained on both (binary cross-entropy on the logit, Adam 3e-3, {args['epochs']} epochs, batch 256,",
        f"  seed {args['train_seed']}, 10 % held out): {log['fit']}",
        "",
        "## Output: calibrated onto the rule's scale",
        "",
        "The core reads a verifier's score as the statistical rule's: a two-sided tail probability,",
        "about uniform on [0, 1] for a change that truly fits; it accepts at 0.002, weighs scores by",
        "priors and compares rival groups by ratio. P(fits) is on another scale (near 1 for every good",
        "fit), so `ModelVerifier` returns an empirical (conformal) p-value instead: the fraction of",
        "held-out true fits whose logit was at most this one (`firmware/verifier_model/calibration.py`,",
        "tables in `verifier_calibration.json`, float and int8 each from its own logits). Calibration",
        f"questions: stores {cal['seeds']}, {cal['sessions_per_store']} sessions each, the rule driving,",
        f"{cal['true_fits']} true fits. The table is empirical from the {cal['tail_count']}th-lowest true fit up;",
        f"below, p falls with the network's odds (slope {cal['tail_slope']} in log p per logit unit).",
        "",
        "At the core's levels on those questions (true fits rejected, misfits accepted; lower is better):",
        "",
        "| score | true fits < 0.002 % | misfits >= 0.002 % | misfits >= 0.00002 % | true fits < 0.01 / 0.1 / 0.5 % |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in ("rule", "float", "int8"):
        t = cal[name]
        below = t["fits_below_pct"]
        lines.append(
            f"| {name} | {t['fits_below_0.002_pct']} | {t['misfits_at_or_above_0.002_pct']} | "
            f"{t['misfits_at_or_above_0.00002_pct']} | {below['0.01']} / {below['0.1']} / {below['0.5']} |"
        )
    lines += [
        "",
        "## Around the network at run time (`ModelVerifier.fit`)",
        "",
        f"- The calibrated score is capped by the rule's score with a spread {ENVELOPE_SDS:g} times wider",
        "  (`ENVELOPE_SDS`): far from the expected weight true fits are too rare for the",
        "  network to learn how unlikely a change is, and it gave gross misfits (a unit three times its",
        "  weight) scores high enough to pair them. The cap changes no decision within "
        f"{ENVELOPE_SDS * NormalDist().inv_cdf(1 - MatchLimits().accept_p / 2):.0f} of the rule's spreads.",
        "- A removal judged against the units' own weighing going in is the rule's (a weighing against a",
        "  weighing; the training data has too few true removals for the network to be as sharp).",
        "- Asked with the lots already in the basket (the core's last resort before an alert), the rule's",
        "  allowance for a knocked heavy lot (`RuleVerifier.knock_share`) is added; the network never sees the lots.",
        "",
        "## Validation (end to end)",
        "",
        f"Validation store {args['val_seed']} ({args['val_sessions']} sessions, half with an incident, learning",
        "carts as `tools.bench_core` runs them):",
        "",
        "| verifier | honest reviews / 1,000 | alerts / honest session | incidents caught % "
        "| silent overcharges | honest billed exactly % |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_fig_row(name, fig) for name, fig in log["validation"].items()]
    rule = log["validation"].get("rule")
    chosen = log["validation"].get("model")
    if rule and chosen:
        worse = (
            chosen["honest_reviews_per_1000"] > rule["honest_reviews_per_1000"]
            or chosen["incidents_caught_pct"] < rule["incidents_caught_pct"]
        )
        lines += [
            "",
            "On validation the model does not beat the rule (more reviews, or fewer incidents caught)."
            if worse
            else "On validation the model reviews fewer honest sessions at an equal or better catch rate.",
        ]
    lines += [
        "",
        "The benchmark on fresh sessions (a seed never used here) is `tools/bench_verifier.py`;",
        "its figures, not these, say whether the model beats the rule.",
        "",
    ]
    path.write_text("\n".join(lines))
