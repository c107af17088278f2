"""Trains the model verifier and writes it into `firmware/verifier_model/` (float and full-int8 TFLite).

Needs TensorFlow (a training-only extra, never needed by the cart), in its own virtualenv:

    python3 -m venv /work/train-venv && /work/train-venv/bin/pip install tensorflow-cpu==2.21.0 numpy ai-edge-litert
    PYTHONPATH=. /work/train-venv/bin/python -m tools.train_verifier            # about 15 minutes on 2 cores

Steps, all seeded (the same command writes the same model):
1. round 1: generated sessions from stores `--round1-seeds` replayed with the rule driving; every
   verifier question is logged and labelled from ground truth (`tools/verifier_data.py`);
2. a small network (`features.N_FEATURES` inputs, two hidden layers, a logit out) is trained on the
   placement questions (removals are the rule's: `firmware/verifier_model/__init__.py`);
3. round 2: sessions from other stores replayed with that model driving (calibrated, as the cart
   runs it), so the questions its own decisions lead to (which the rule never asks) are labelled
   too; the network is retrained on both;
4. float and full-int8 `.tflite` files are written, and each is calibrated onto the rule's p-value
   scale from its logits on the true fits of other stores (`--calib-seeds`, the rule driving);
5. both are validated end to end against the rule on a validation store (`--val-seed`) with
   bench_core's figures, and `MODEL_CARD.md` and `training_log.json` are written.
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

from firmware.verifier_model import CALIBRATION_FILE, MODEL_DIR, MODEL_FILES, ModelVerifier, calibration
from firmware.verifier_model.features import FEATURE_NAMES, N_FEATURES
from tools.verifier_data import KIND_GRAMS, KIND_PLACE, collect, evaluate, rule_driver
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
    keep = _placements(data)
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


def frozen(tf: Any, model: Any) -> Any:
    """The trained network as a function of constants (no variables for the converter)."""
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    layers = [(tf.constant(weights[i]), tf.constant(weights[i + 1])) for i in range(0, len(weights), 2)]

    @tf.function(input_signature=[tf.TensorSpec([1, N_FEATURES], tf.float32, name="features")])
    def serve(features: Any) -> Any:
        x = features
        for kernel, bias in layers[:-1]:
            x = tf.nn.relu(tf.matmul(x, kernel) + bias)
        kernel, bias = layers[-1]
        return tf.matmul(x, kernel) + bias

    return serve.get_concrete_function()


def export(tf: Any, model: Any, folder: Path, representative: np.ndarray) -> dict[str, int]:
    """Writes the float and full-int8 (int8 in, int8 out) models; returns their sizes in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    concrete = frozen(tf, model)
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


def _placements(data: dict[str, np.ndarray]) -> np.ndarray:
    """The labelled placement questions: the network judges only those (removals, against the units'
    own weighing going in, are the rule's; see `firmware/verifier_model/__init__.py`)."""
    return (data["y"] >= 0) & (data["query_kind"] == KIND_PLACE)


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


def calibration_data(seeds: list[int], sessions: int, workers: int) -> dict[str, np.ndarray]:
    """Labelled questions of held-out calibration stores, the rule driving (no model involved)."""
    return collect(seeds, sessions, rule_driver, workers)


def calibrate(folder: Path, data: dict[str, np.ndarray], meta: dict[str, Any]) -> dict[str, Any]:
    """Writes `verifier_calibration.json` for the models in `folder`: each variant's logits on the true
    fits of the held-out calibration questions `data` become its table onto the rule's p-value scale
    (`firmware/verifier_model/calibration.py`). Needs no TensorFlow. Returns what it measured: at the
    core's levels, true fits rejected and misfits accepted, the rule's beside the model's."""
    keep = _placements(data)
    y, rule_score = data["y"][keep], data["rule_score"][keep]
    fits, misfits = data["x"][keep][y == 1], data["x"][keep][y == 0]
    tables: dict[str, calibration.Calibration] = {}
    summary: dict[str, Any] = {
        **meta,
        "true_fits": len(fits),
        "misfits": len(misfits),
        "tail_count": calibration.TAIL_COUNT,
        "tail_slope": calibration.TAIL_SLOPE,
        "rule": _tails(rule_score[y == 1], rule_score[y == 0]),
    }
    for variant in MODEL_FILES:
        model = ModelVerifier(variant, folder, calibrated=False)
        fit_z = np.array([model.logit_features(row) for row in fits])
        misfit_z = np.array([model.logit_features(row) for row in misfits])
        tables[variant] = calibration.build(fit_z)
        p_fit = np.array([tables[variant].p_value(z) for z in fit_z])
        p_misfit = np.array([tables[variant].p_value(z) for z in misfit_z])
        summary[variant] = {"knots": len(tables[variant].logits), **_tails(p_fit, p_misfit)}
    calibration.write(folder / CALIBRATION_FILE, tables, {**meta, "true_fits": len(fits)})
    return summary


def _tails(p_fit: np.ndarray, p_misfit: np.ndarray) -> dict[str, Any]:
    """How a score behaves at the core's levels: true fits rejected, misfits accepted, and how
    uniform true fits are (fractions below 0.01, 0.1, 0.5)."""
    return {
        "fits_below_0.002_pct": round(100 * float((p_fit < 0.002).mean()), 3),
        "misfits_at_or_above_0.002_pct": round(100 * float((p_misfit >= 0.002).mean()), 3),
        "misfits_at_or_above_0.00002_pct": round(100 * float((p_misfit >= 0.00002).mean()), 3),
        "fits_below_pct": {str(q): round(100 * float((p_fit < q).mean()), 2) for q in (0.01, 0.1, 0.5)},
    }


def _merge(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([a[key], b[key]]) for key in a}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round1-seeds", type=int, nargs="+", default=[101, 102, 103, 104])
    parser.add_argument("--round2-seeds", type=int, nargs="+", default=[201, 202, 203, 204])
    parser.add_argument("--sessions-per-store", type=int, default=300)
    parser.add_argument("--calib-seeds", type=int, nargs="+", default=[401, 402, 403])
    parser.add_argument("--calib-sessions", type=int, default=300, help="sessions per calibration store")
    parser.add_argument("--val-seed", type=int, default=301)
    parser.add_argument("--val-sessions", type=int, default=1000)
    parser.add_argument("--train-seed", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument(
        "--calibrate-only",
        action="store_true",
        help="only rebuild the calibration of the models already in --out (no TensorFlow needed)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def step(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {text}", flush=True)

    calib_meta = {"seeds": args.calib_seeds, "sessions_per_store": args.calib_sessions, "driver": "rule"}
    if args.calibrate_only:
        step(f"calibration: {args.calib_sessions} sessions from each of stores {args.calib_seeds}, rule driving")
        summary = calibrate(args.out, calibration_data(args.calib_seeds, args.calib_sessions, args.workers), calib_meta)
        step(f"wrote {args.out / CALIBRATION_FILE}: {json.dumps(summary)}")
        return 0
    tf = _tf()
    tf.config.experimental.enable_op_determinism()
    log: dict[str, Any] = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}

    step(f"calibration data: {args.calib_sessions} sessions from each of stores {args.calib_seeds}, rule driving")
    calib = calibration_data(args.calib_seeds, args.calib_sessions, args.workers)
    step(f"round 1: {args.sessions_per_store} sessions from each of stores {args.round1_seeds}, rule driving")
    data1 = collect(args.round1_seeds, args.sessions_per_store, rule_driver, args.workers)
    log["round1"] = label_stats(data1)
    step(f"round 1 queries: {json.dumps(log['round1'])}")
    model, log["fit1"] = train(tf, data1, args.train_seed, args.epochs)
    step(f"round 1 model: {log['fit1']}")

    scratch = Path(tempfile.mkdtemp(prefix="verifier-train-"))
    export(tf, model, scratch / "r1", data1["x"][:: max(1, len(data1["x"]) // 2000)])
    calibrate(scratch / "r1", calib, calib_meta)  # round 2 is driven as the cart would run it: calibrated
    driver = functools.partial(ModelVerifier, "float", scratch / "r1")
    step(f"round 2: {args.sessions_per_store} sessions from each of stores {args.round2_seeds}, model driving")
    data2 = collect(args.round2_seeds, args.sessions_per_store, driver, args.workers)
    log["round2"] = label_stats(data2)
    step(f"round 2 queries: {json.dumps(log['round2'])}")
    data = _merge(data1, data2)
    model, log["fit"] = train(tf, data, args.train_seed, args.epochs)
    step(f"final model: {log['fit']}")
    placements = data["x"][_placements(data)]
    representative = placements[:: max(1, len(placements) // 2000)]
    log["sizes_bytes"] = export(tf, model, args.out, representative)
    log["calibration"] = calibrate(args.out, calib, calib_meta)
    step(f"calibration: {json.dumps(log['calibration'])}")

    step(f"validation on store {args.val_seed} ({args.val_sessions} sessions): rule, model, model-int8")
    log["validation"] = {}
    for name, make in (
        ("rule", rule_driver),
        ("model", functools.partial(ModelVerifier, "float", args.out)),
        ("model-int8", functools.partial(ModelVerifier, "int8", args.out)),
    ):
        fig, _ = evaluate(args.val_seed, args.val_sessions, make, args.workers)
        log["validation"][name] = fig
        step(f"  {name}: {_short(fig)}")
    log["params"] = int(model.count_params())
    log["train_wall_s"] = round(time.perf_counter() - started, 1)
    log["tensorflow"] = tf.__version__
    write_model_card(args.out / "MODEL_CARD.md", log, FEATURE_NAMES, HIDDEN)
    (args.out / "training_log.json").write_text(json.dumps(log, indent=1) + "\n")
    step(f"wrote {', '.join(MODEL_FILES.values())} ({log['sizes_bytes']}), {CALIBRATION_FILE} and MODEL_CARD.md")
    return 0


def _short(fig: dict[str, Any]) -> str:
    return (
        f"reviews/1000 {fig['honest_reviews_per_1000']}, alerts/honest {fig['honest_alerts_per_session']}, "
        f"caught {fig['incidents_caught_pct']} %, silent overcharges {fig['silent_overcharges']}"
    )


if __name__ == "__main__":
    sys.exit(main())
