"""The model verifier's inputs: one `FitQuery` as a short vector of normalised numbers.

Shared by the training script (`tools/train_verifier.py`) and the runtime (`ModelVerifier`), so
both see exactly the same transform. Every input is squashed into roughly [-3, 3] with fixed,
documented transforms (logs of weights and times, clipped residuals), so the model needs no
learned normalisation and full-int8 quantization keeps its resolution. The statistical rule's
standardised residual is an input, twice: linear and clipped (resolution where fits are decided) and
as a log (a change ten times too heavy still reads further off than one twice too heavy). The model
starts from what the rule knows and learns where the rule's normal error model is wrong (catalog
weights a few per cent off, hands still on the item, produce, the basket's load). The lots already
in the basket (`FitQuery.lumps_g`) are not an input: a knocked lot is physics the verifier adds the
rule's way (`ModelVerifier.fit`), not something to learn from the few last-resort questions that
carry them.
"""

from __future__ import annotations

import dataclasses
import math

from firmware.core.verifier import FitQuery, RuleVerifier

FEATURE_NAMES = (
    "rel_residual",  # (measured - expected) / expected, clipped to +-1
    "rule_z",  # (measured - expected) / the rule's spread, clipped to +-12, / 4
    "residual_log_g",  # sign * log1p(|measured - expected| in g) / 4
    "expected_log_g",  # log10(expected g) / 2 - 1
    "sd_known",  # 1 when the catalog or a measurement gives the spread
    "sd_rel",  # known spread / expected, x 10, clipped to 3
    "units_log",  # log2(units) / 2
    "noise_log_g",  # log1p(sample noise in g)
    "settle_log_s",  # log1p(how long the basket moved before it came to rest) / 2
    "since_scan_log_s",  # log1p(seconds since the newest candidate unit was scanned) / 3
    "load_log_kg",  # log1p(basket load in kg) / 2
    "by_weight",
    "learned",
    "produce",
    "pending_log",  # log1p(units scanned and not yet placed) / 2
    "rule_z_log",  # sign * log1p(|rule_z|) / 3, clipped to +-4: how far off beyond rule_z's clip
)
N_FEATURES = len(FEATURE_NAMES)

_RULE = RuleVerifier(push_shift_rel=0.0)  # the rule the model was trained with (before pushes widened it)


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def query_features(query: FitQuery) -> list[float]:
    """The input vector for one query; the query must carry an expected weight."""
    if query.expected_g is None:
        raise ValueError("a query without an expected weight has no model features")
    expected = max(query.expected_g, 0.1)
    diff = query.measured_g - expected
    # as for a placement; replace() costs more than the rest of the vector, so only when needed
    spread = _RULE.spread_g(dataclasses.replace(query, measured=False) if query.measured else query)
    sd = query.expected_sd_g
    z = diff / spread
    return [
        _clip(diff / expected, -1.0, 1.0),
        _clip(z, -12.0, 12.0) / 4.0,
        math.copysign(math.log1p(abs(diff)), diff) / 4.0,
        math.log10(expected) / 2.0 - 1.0,
        0.0 if sd is None else 1.0,
        0.0 if sd is None else _clip(10.0 * sd / expected, 0.0, 3.0),
        math.log2(max(1, query.units)) / 2.0,
        math.log1p(max(0.0, query.noise_g)),
        math.log1p(_clip(query.settle_s, 0.0, 600.0)) / 2.0,
        math.log1p(_clip(query.since_scan_s, 0.0, 3600.0)) / 3.0,
        math.log1p(max(0.0, query.basket_load_g) / 1000.0) / 2.0,
        1.0 if query.by_weight else 0.0,
        1.0 if query.learned else 0.0,
        1.0 if query.produce else 0.0,
        math.log1p(max(0, query.pending_units)) / 2.0,
        _clip(math.copysign(math.log1p(abs(z)), z) / 3.0, -4.0, 4.0),
    ]
