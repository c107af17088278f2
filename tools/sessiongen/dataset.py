"""A generated benchmark set: one shared catalog, many sessions, ground truth in a separate folder.

Layout written by `generate_dataset(out, ...)`:

    OUT/catalog.csv                 the store's catalog (trace spec CSV), shared by all traces
    OUT/<session_id>/trace.jsonl    one trace per session, header `catalog` = "../catalog.csv"
    OUT/truth/<session_id>.json     ground truth of that session (format in WORLD.md)
    OUT/truth/store_truth.csv       the physical truth behind each catalog row
    OUT/truth/manifest.json         seed, options and the mix of session kinds
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tools.sessiongen.catalog import (
    DEFAULT_OFF_CSV,
    DEFAULT_PLU_JSON,
    Store,
    build_store,
    write_catalog,
    write_store_truth,
)
from tools.sessiongen.session import generate_session, write_session
from tools.sessiongen.shopper import INCIDENT_KINDS

UNITS = ("g", "counts", "mixed")


def session_kinds(n: int, incident_rate: float, seed: int) -> list[str]:
    """Exactly round(n * rate) incident sessions, the incident kinds in equal shares, in shuffled order."""
    if not 0.0 <= incident_rate <= 1.0:
        raise ValueError(f"incident rate must be within 0..1, got {incident_rate}")
    n_inc = round(n * incident_rate)
    kinds = ["honest"] * (n - n_inc) + [INCIDENT_KINDS[i % len(INCIDENT_KINDS)] for i in range(n_inc)]
    order = np.random.default_rng([seed, 0x4B1D]).permutation(n)
    return [kinds[i] for i in order]


def session_id(seed: int, index: int) -> str:
    return f"gen-{seed}-{index:05d}"


def store_for_seed(seed: int, off_csv: Path | str = DEFAULT_OFF_CSV, plu_json: Path | str = DEFAULT_PLU_JSON) -> Store:
    return build_store(np.random.default_rng([seed, 0x5709E]), off_csv, plu_json)


def generate_dataset(
    out: Path | str,
    sessions: int,
    seed: int,
    incident_rate: float = 0.5,
    sps: float = 80.0,
    unit: str = "mixed",
    off_csv: Path | str = DEFAULT_OFF_CSV,
    plu_json: Path | str = DEFAULT_PLU_JSON,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write a whole set (see the module docstring); returns the manifest."""
    if sessions < 0:
        raise ValueError(f"sessions must be >= 0, got {sessions}")
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    store = store_for_seed(seed, off_csv, plu_json)
    write_catalog(store, out / "catalog.csv")
    write_store_truth(store, out / "truth" / "store_truth.csv")
    kinds = session_kinds(sessions, incident_rate, seed)
    units = np.random.default_rng([seed, 0x0C07]).random(sessions) < 0.5
    for i, kind in enumerate(kinds):
        session_unit = unit if unit != "mixed" else ("counts" if units[i] else "g")
        session = generate_session(store, [seed, i], session_id(seed, i), kind, sps, session_unit)
        write_session(session, out)
        if progress is not None:
            progress(i + 1, sessions)
    manifest = {
        "generator": "tools.sessiongen",
        "seed": seed,
        "sessions": sessions,
        "incident_rate": incident_rate,
        "sps": sps,
        "unit": unit,
        "kinds": dict(Counter(kinds)),
        "catalog": "catalog.csv",
        "catalog_rows": len(store.products),
        "sources": ["Open Food Facts (ODbL)", "IFPS PLU codes via ankane/plu (MIT)"],
    }
    (out / "truth" / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
