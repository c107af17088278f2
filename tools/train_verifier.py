"""Trains the model verifier and writes it into `firmware/verifier_model/` (float and full-int8 TFLite).

Needs TensorFlow (a training-only extra, never needed by the cart), in its own virtualenv:

    python3 -m venv /work/train-venv && /work/train-venv/bin/pip install tensorflow-cpu==2.21.0 numpy
    PYTHONPATH=. /work/train-venv/bin/python -m tools.train_verifier            # about 4 minutes on 2 cores

Steps, all seeded (the same command writes the same model):
1. round 1: generated sessions from stores `--round1-seeds` replayed with the rule driving; every
   verifier question is logged and labelled from ground truth (`tools/verifier_data.py`);
2. a small network (15 inputs, two hidden layers, a logit out) is trained on those labels;
3. round 2: sessions from other stores replayed with that model driving, so the questions its own
   decisions lead to (which the rule never asks) are labelled too; the network is retrained on both;
4. the decision bias (a shift of the output logit) is chosen end to end on a validation store
   (`--val-seed`) with bench_core's figures, against the rule on the same sessions;
5. float and full-int8 `.tflite` files and `MODEL_CARD.md` are written.
Seeds used here must never be used to benchmark (`tools/bench_verifier.py` defaults to another).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from firmware.verifier_model import MODEL_DIR, MODEL_FILES, ModelVerifier
from firmware.verifier_model.features import FEATURE_NAMES, N_FEATURES
from tools.verifier_data import KIND_GRAMS, collect, evaluate, rule_driver
from tools.verifier_model_card import write_model_card

HIDDEN = (32, 16)


def _tf() -> Any:
    try:
        import tensorflow as tf
    except ImportError:
        sys.exit("tools/train_verifier.py needs TensorFlow: pip install tensorflow-cpu (in a training venv)")
    return tf


def build_model(tf: Any) -> Any:
    inputs = tf.keras.Input(shape=(N_FEATURES,), name="features")
    x = inputs
    for width in HIDDEN:
        x = tf.keras.layers.Dense(width, activation="relu")(x)
    logit = tf.keras.layers.Dense(1, name="logit")(x)
    return tf.keras.Model(inputs, logit)


def train(tf: Any, data: dict[str, np.ndarray], seed: int, epochs: int) -> tuple[Any, dict[str, float]]:
    tf.keras.utils.set_random_seed(seed)
    keep = data["y"] >= 0
    x, y = data["x"][keep], data["y"][keep].astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_val = len(x) // 10
    model = build_model(tf)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(3e-3),
        loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[tf.keras.metrics.AUC(from_logits=True, name="auc")],
    )
    history = model.fit(
        x[n_val:],
        y[n_val:],
        validation_data=(x[:n_val], y[:n_val]),
        epochs=epochs,
        batch_size=256,
        verbose=0,
        shuffle=True,
    )
    return model, {
        "train_rows": int(len(x) - n_val),
        "heldout_rows": int(n_val),
        "heldout_loss": round(float(history.history["val_loss"][-1]), 4),
        "heldout_auc": round(float(history.history["val_auc"][-1]), 4),
    }


def frozen(tf: Any, model: Any, shift: float = 0.0) -> Any:
    """The trained network as a function of constants (no variables for the converter), its output
    logit moved by `shift` (the decision operating point)."""
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    weights[-1] = weights[-1] + np.float32(shift)
    layers = [(tf.constant(weights[i]), tf.constant(weights[i + 1])) for i in range(0, len(weights), 2)]

    @tf.function(input_signature=[tf.TensorSpec([1, N_FEATURES], tf.float32, name="features")])
    def serve(features: Any) -> Any:
        x = features
        for kernel, bias in layers[:-1]:
            x = tf.nn.relu(tf.matmul(x, kernel) + bias)
        kernel, bias = layers[-1]
        return tf.matmul(x, kernel) + bias

    return serve.get_concrete_function()


def export(tf: Any, model: Any, folder: Path, representative: np.ndarray, shift: float = 0.0) -> dict[str, int]:
    """Writes the float and full-int8 (int8 in, int8 out) models; returns their sizes in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    concrete = frozen(tf, model, shift)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    (folder / MODEL_FILES["float"]).write_bytes(converter.convert())

    def samples() -> Any:
        for row in representative:
            yield [row.reshape(1, N_FEATURES).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    (folder / MODEL_FILES["int8"]).write_bytes(converter.convert())
    return {variant: (folder / name).stat().st_size for variant, name in MODEL_FILES.items()}


def label_stats(data: dict[str, np.ndarray]) -> dict[str, Any]:
    y, kind = data["y"], data["query_kind"]
    rule_accepts = data["rule_score"] >= 0.002
    out: dict[str, Any] = {"queries": len(y), "unlabelled_no_units": int((kind == KIND_GRAMS).sum())}
    for name, value in (("placement", 0), ("removal", 1)):
        sel = kind == value
        out[name] = {
            "fits": int((y[sel] == 1).sum()),
            "misfits": int((y[sel] == 0).sum()),
            "rule_rejects_fits": int((sel & (y == 1) & ~rule_accepts).sum()),
            "rule_accepts_misfits": int((sel & (y == 0) & rule_accepts).sum()),
        }
    return out


def _merge(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([a[key], b[key]]) for key in a}


def _bad(fig: dict[str, Any]) -> float:
    """Sessions that went wrong per 1,000: honest ones sent to review, incidents missed, silent overcharges."""
    per = 1000.0 / max(1, fig["sessions"])
    missed = fig["incidents"] * (1 - fig["incidents_caught_pct"] / 100)
    reviews = fig["honest"] * fig["honest_reviews_per_1000"] / 1000
    return per * (reviews + missed + fig["silent_overcharges"]) + fig["honest_alerts_per_session"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round1-seeds", type=int, nargs="+", default=[101, 102, 103, 104])
    parser.add_argument("--round2-seeds", type=int, nargs="+", default=[201, 202, 203, 204])
    parser.add_argument("--sessions-per-store", type=int, default=300)
    parser.add_argument("--val-seed", type=int, default=301)
    parser.add_argument("--val-sessions", type=int, default=300)
    parser.add_argument("--shifts", type=float, nargs="+", default=[-1.0, 0.0, 1.0, 2.0])
    parser.add_argument("--train-seed", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    tf = _tf()
    tf.config.experimental.enable_op_determinism()
    started = time.perf_counter()
    log: dict[str, Any] = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}

    def step(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {text}", flush=True)

    step(f"round 1: {args.sessions_per_store} sessions from each of stores {args.round1_seeds}, rule driving")
    data1 = collect(args.round1_seeds, args.sessions_per_store, rule_driver, args.workers)
    log["round1"] = label_stats(data1)
    step(f"round 1 queries: {json.dumps(log['round1'])}")
    model, log["fit1"] = train(tf, data1, args.train_seed, args.epochs)
    step(f"round 1 model: {log['fit1']}")

    scratch = Path(tempfile.mkdtemp(prefix="verifier-train-"))
    export(tf, model, scratch / "r1", data1["x"][:: max(1, len(data1["x"]) // 2000)])
    driver = functools.partial(ModelVerifier, "float", scratch / "r1")
    step(f"round 2: {args.sessions_per_store} sessions from each of stores {args.round2_seeds}, model driving")
    data2 = collect(args.round2_seeds, args.sessions_per_store, driver, args.workers)
    log["round2"] = label_stats(data2)
    step(f"round 2 queries: {json.dumps(log['round2'])}")
    data = _merge(data1, data2)
    model, log["fit"] = train(tf, data, args.train_seed, args.epochs)
    step(f"final model: {log['fit']}")
    representative = data["x"][data["y"] >= 0][:: max(1, int((data["y"] >= 0).sum()) // 2000)]

    step(f"operating point on store {args.val_seed} ({args.val_sessions} sessions): shifts {args.shifts}")
    rule_fig, _ = evaluate(args.val_seed, args.val_sessions, rule_driver, args.workers)
    log["validation"] = {"rule": rule_fig}
    step(f"  rule: bad {_bad(rule_fig):.1f} {_short(rule_fig)}")
    best: tuple[float, float] | None = None
    for shift in args.shifts:
        folder = scratch / f"shift{shift:+.1f}"
        export(tf, model, folder, representative, shift)
        fig, _ = evaluate(
            args.val_seed, args.val_sessions, functools.partial(ModelVerifier, "float", folder), args.workers
        )
        log["validation"][f"model shift {shift:+.1f}"] = fig
        bad = _bad(fig)
        step(f"  shift {shift:+.1f}: bad {bad:.1f} {_short(fig)}")
        if best is None or bad < best[0]:
            best = (bad, shift)
    assert best is not None
    log["shift"] = best[1]
    log["sizes_bytes"] = export(tf, model, args.out, representative, best[1])
    log["params"] = int(model.count_params())
    log["train_wall_s"] = round(time.perf_counter() - started, 1)
    log["tensorflow"] = tf.__version__
    write_model_card(args.out / "MODEL_CARD.md", log, FEATURE_NAMES, HIDDEN)
    (args.out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
    step(f"wrote {', '.join(MODEL_FILES.values())} ({log['sizes_bytes']}) and MODEL_CARD.md to {args.out}")
    return 0


def _short(fig: dict[str, Any]) -> str:
    return (
        f"reviews/1000 {fig['honest_reviews_per_1000']}, alerts/honest {fig['honest_alerts_per_session']}, "
        f"caught {fig['incidents_caught_pct']} %, silent overcharges {fig['silent_overcharges']}"
    )


if __name__ == "__main__":
    sys.exit(main())
