"""The verifiers a cart can run, by name (`cartctl replay --verifier`, the daemon's config).

`rule` (the statistical rule) stays first, the default, until the model beats it end to end
(`tools/bench_verifier.py`). `model` is the trained TFLite network (float), `model-int8` the same
network fully int8-quantized; both need a TFLite runtime (ai-edge-litert or tflite-runtime).
"""

from __future__ import annotations

from firmware.core.verifier import RuleVerifier, Verifier

VERIFIER_NAMES = ("rule", "model", "model-int8")


def make_verifier(name: str) -> Verifier:
    if name == "rule":
        return RuleVerifier()
    if name in ("model", "model-int8"):
        from firmware.verifier_model import ModelVerifier  # imported here: the rule needs no TFLite runtime

        return ModelVerifier("float" if name == "model" else "int8")
    raise ValueError(f"unknown verifier {name!r}; choose one of {', '.join(VERIFIER_NAMES)}")
