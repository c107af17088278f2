"""An independent validity check of cart-trace v1 files, written from the spec for these tests."""

from __future__ import annotations

import json
import math
from pathlib import Path

SYMBOLOGIES = {"ean13", "ean8", "upca", "upce"}


def _num(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_trace(path: Path, block_s: float = 1.0) -> list[str]:
    """All the ways the trace at `path` breaks the v1 contract (empty when valid)."""
    errors: list[str] = []
    lines = [json.loads(s) for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
    if not lines or lines[0].get("type") != "header":
        return ["first line is not the header"]
    h = lines[0]
    if h.get("version") != 1:
        errors.append("header version is not 1")
    if not isinstance(h.get("catalog"), str) or not (path.parent / h["catalog"]).is_file():
        errors.append(f"catalog {h.get('catalog')!r} not found beside the trace")
    scale = h.get("scale", {})
    if scale.get("unit") == "counts":
        if not (_num(scale.get("offset")) and _num(scale.get("counts_per_gram")) and scale["counts_per_gram"] != 0):
            errors.append("counts header lacks offset / counts_per_gram")
    elif scale.get("unit") != "g":
        errors.append(f"unknown scale unit {scale.get('unit')!r}")
    prev_t = -math.inf
    next_sample_t = 0.0
    last_sample_t = -math.inf
    ends = 0
    for no, line in enumerate(lines[1:], start=2):
        kind, t = line.get("type"), line.get("t")
        if kind == "header":
            errors.append(f"line {no}: second header")
            continue
        if not _num(t) or t < prev_t:
            errors.append(f"line {no}: t {t!r} missing or decreasing (previous {prev_t})")
            continue
        prev_t = t
        if kind == "scale":
            sps, values = line.get("sps"), line.get("values")
            if not _num(sps) or sps <= 0 or not isinstance(values, list) or not values:
                errors.append(f"line {no}: bad scale block")
                continue
            if not all(_num(v) for v in values):
                errors.append(f"line {no}: non-numeric sample")
            if abs(t - next_sample_t) > 0.5 / sps:
                errors.append(f"line {no}: scale block at {t} leaves a gap or overlap (expected {next_sample_t})")
            if not 0.5 * block_s <= len(values) / sps <= 2 * block_s and t + len(values) / sps < lines[-1]["t"]:
                errors.append(f"line {no}: block of {len(values) / sps} s")
            next_sample_t = t + len(values) / sps
            last_sample_t = t + (len(values) - 1) / sps
        elif kind == "code":
            text = line.get("text")
            if not isinstance(text, str) or not text.isdigit():
                errors.append(f"line {no}: code text {text!r}")
            if "symbology" in line and line["symbology"] not in SYMBOLOGIES:
                errors.append(f"line {no}: symbology {line['symbology']!r}")
        elif kind == "input":
            action = line.get("action")
            if action == "plu" and not str(line.get("plu", "")).isdigit():
                errors.append(f"line {no}: plu input without a PLU")
            elif action == "remove" and not isinstance(line.get("code"), str):
                errors.append(f"line {no}: remove input without a code")
            elif action not in ("plu", "remove", "checkout"):
                errors.append(f"line {no}: unknown action {action!r}")
        elif kind == "end":
            ends += 1
            if no != len(lines):
                errors.append(f"line {no}: end is not the last line")
            if last_sample_t < t - 1.0 / 8:
                errors.append(f"line {no}: scale samples stop at {last_sample_t}, before the end {t}")
        else:
            errors.append(f"line {no}: unexpected type {kind!r}")
    if ends != 1:
        errors.append(f"{ends} end lines")
    return errors
