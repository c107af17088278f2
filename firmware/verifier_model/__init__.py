"""The TensorFlow Lite verifier: a small trained model judges whether a settled change fits.

`ModelVerifier` implements the core's `Verifier` protocol (`firmware/core/verifier.py`). It runs
the `.tflite` files in this folder (written by `tools/train_verifier.py`, described in
`MODEL_CARD.md`) with `ai_edge_litert` (works with numpy 2), or with `tflite_runtime` where a Pi
image only has that. TensorFlow itself is never needed to run the cart.

The network's output is the logit of P(the candidate units explain the change). The verifier
returns it on the statistical rule's scale, the scale the core's thresholds and rival ratios are set
on: an empirical p-value from the calibration table beside the model (`verifier_calibration.json`,
one table per variant, see `calibration.py`): about uniform on [0, 1] for a change that truly fits.
Without that file (a freshly trained model in training) `calibrated=False` gives the sigmoid of the
logit instead, the raw network with none of what follows.

The score is capped by a wide normal envelope around the rule: a change `d` of the rule's spreads
from the units' expected weight scores at most erfc(d / (4 sqrt 2)), the rule's own score with a
spread four times wider. Inside that envelope the network decides alone (a catalog weight a few per
cent off, a hand still on the item, produce). Far outside it the network has little to go on (true
fits are rare there, and cross-entropy stops pushing a misfit down once it is unlikely), and we
measured gross misfits (a unit three times its weight, most with a weight learned in the session)
scoring 1e-4 to 1e-3: high enough for the core to pair them, which takes the weight a later item
needs. The cap can change a decision only beyond 12 spreads (the core accepts at 0.002) or 17 (it
revises a placement at 2e-5).

A removal judged against what the very units weighed going in (`FitQuery.measured`) is the rule's:
a weighing against a weighing, with the scale's small error, where the network (trained on about
1,400 true removals among 400,000 questions) scored an exact match 0.16 and a unit 13 g off 0.02,
too close to tell which unit left (2718-00280); the rule says 0.93 against 1e-10.

Asked with the lots already in the basket (the core's last resort before an alert), the verifier
adds the rule's allowance for a knocked heavy lot to the network's score; the network never sees
the lots. With nothing known of the product's weight it returns `None`, like the rule, and the core
falls back to its unverified path. One interpreter is built per verifier and reused for every call
(the core is single-threaded; use one verifier per process or thread).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from firmware.core.verifier import FitQuery, RuleVerifier
from firmware.verifier_model import calibration
from firmware.verifier_model.calibration import CALIBRATION_FILE, Calibration
from firmware.verifier_model.features import N_FEATURES, query_features

MODEL_DIR = Path(__file__).resolve().parent
MODEL_FILES = {"float": "verifier_float.tflite", "int8": "verifier_int8.tflite"}
ENVELOPE_SDS = 4.0  # the cap's spread, in the rule's spreads (see the module's doc)


class ModelUnavailable(RuntimeError):
    """No TFLite runtime is installed, or the model file is missing or unreadable."""


def load_interpreter_class() -> tuple[Any, str]:
    """The TFLite `Interpreter` class and the name of the package it came from."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai_edge_litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter  # type: ignore[import-not-found]

        return Interpreter, "tflite_runtime"
    except ImportError:
        raise ModelUnavailable(
            "the model verifier needs a TensorFlow Lite runtime: install ai-edge-litert "
            "(pip install ai-edge-litert; works with numpy 2) or tflite-runtime (numpy < 2 only), "
            "or run with --verifier rule"
        ) from None


def model_path(variant: str = "float", model_dir: Path | str | None = None) -> Path:
    if variant not in MODEL_FILES:
        raise ValueError(f"unknown model variant {variant!r}; choose one of {', '.join(MODEL_FILES)}")
    return Path(model_dir or MODEL_DIR) / MODEL_FILES[variant]


class ModelVerifier:
    """The trained network's fit, calibrated onto the rule's p-value scale (or its raw P(fits) with
    `calibrated=False`); `None` when the expected weight is unknown."""

    def __init__(
        self,
        variant: str = "float",
        model_dir: Path | str | None = None,
        name: str | None = None,
        calibrated: bool = True,
        envelope_sds: float | None = ENVELOPE_SDS,
    ) -> None:
        path = model_path(variant, model_dir)
        if not path.is_file():
            raise ModelUnavailable(f"model file {path} not found (train it with tools/train_verifier.py)")
        interpreter_class, self.runtime = load_interpreter_class()
        try:
            self._interpreter = interpreter_class(model_path=str(path), num_threads=1)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailable(f"{path}: not a usable TFLite model ({exc})") from None
        self.name = name or ("model" if variant == "float" else f"model-{variant}")
        self.variant = variant
        self.path = path
        inp = self._interpreter.get_input_details()[0]
        out = self._interpreter.get_output_details()[0]
        if tuple(inp["shape"]) != (1, N_FEATURES):
            raise ModelUnavailable(f"{path}: expects input shape {tuple(inp['shape'])}, features are (1, {N_FEATURES})")
        self._in_index, self._out_index = inp["index"], out["index"]
        self._in_dtype = inp["dtype"]
        self._in_scale, self._in_zero = inp["quantization"]
        self._out_scale, self._out_zero = out["quantization"]
        self._quantized_in = self._in_dtype in (np.int8, np.uint8) and self._in_scale > 0
        self._quantized_out = out["dtype"] in (np.int8, np.uint8) and self._out_scale > 0
        info = np.iinfo(self._in_dtype) if self._quantized_in else None
        self._in_range = (info.min, info.max) if info is not None else None
        self._buffer = np.zeros((1, N_FEATURES), dtype=self._in_dtype)
        self._envelope = envelope_sds * math.sqrt(2.0) if envelope_sds else None
        self._rule = RuleVerifier()
        self.calibration: Calibration | None = None
        if calibrated:
            try:
                self.calibration = calibration.load(path.parent, variant)
            except (ValueError, KeyError, TypeError) as exc:
                raise ModelUnavailable(f"{path.parent / CALIBRATION_FILE}: unusable calibration ({exc})") from None
            if self.calibration is None:
                raise ModelUnavailable(
                    f"calibration {path.parent / CALIBRATION_FILE} not found (tools/train_verifier.py writes it)"
                )

    def logit(self, query: FitQuery) -> float:
        return self.logit_features(query_features(query))

    def logit_features(self, features: Any) -> float:
        """The network's output logit for one input vector (`features.query_features`)."""
        values = np.asarray(features, dtype=np.float32)
        if self._quantized_in:
            assert self._in_range is not None
            q = np.round(values / self._in_scale + self._in_zero)
            self._buffer[0] = np.clip(q, *self._in_range)
        else:
            self._buffer[0] = values
        self._interpreter.set_tensor(self._in_index, self._buffer)
        self._interpreter.invoke()
        raw = float(self._interpreter.get_tensor(self._out_index)[0, 0])
        return (raw - self._out_zero) * self._out_scale if self._quantized_out else raw

    def fit(self, query: FitQuery) -> float | None:
        if query.expected_g is None:
            return None
        if self.calibration is None:  # the raw network, nothing added (training and debugging)
            z = self.logit(query)
            return 1.0 / (1.0 + math.exp(-z)) if z >= -700 else 0.0
        if query.measured:
            return self._rule.fit(query)  # a removal, against the units' own weighing going in
        p = self.calibration.p_value(self.logit(query))
        if self._envelope is not None:
            p = min(p, math.erfc(self._rule.distance(query) / self._envelope))
        return min(1.0, p + self._rule.knock_share(query))


__all__ = [
    "CALIBRATION_FILE",
    "ENVELOPE_SDS",
    "MODEL_DIR",
    "MODEL_FILES",
    "ModelUnavailable",
    "ModelVerifier",
    "load_interpreter_class",
    "model_path",
]
