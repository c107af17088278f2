"""Keeps the cart's copy of the store catalog current, asking only for what changed.

The copy is a cart-trace v1 catalog CSV (what `firmware.core.catalog.load_catalog` reads) plus a
small JSON state file with the version it holds. Both are replaced atomically, so a power cut
leaves the old copy or the new one, never half of one. A store that has no catalog yet (version
0) leaves the cart's copy alone: an empty answer must not empty the cart.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from firmware.fileio import write_atomic
from firmware.sync.client import StoreClient

COLUMNS = ("code", "name", "price_cents", "sold_by", "weight_g", "weight_sd_g")


class CatalogSyncError(RuntimeError):
    pass


def state_path_for(csv_path: str | Path) -> Path:
    csv_path = Path(csv_path)
    return csv_path.with_name(csv_path.name + ".state.json")


def held_version(csv_path: str | Path) -> int:
    """The store's catalog version the cart's copy at `csv_path` holds (0: none, or unreadable)."""
    return int(_load_state(state_path_for(csv_path))["version"])


def sync_catalog(client: StoreClient, csv_path: str | Path) -> int:
    """Bring `csv_path` (and `csv_path`.state.json) up to the store's version; returns that version.

    Returns 0 without touching the copy when the store has no catalog yet.
    """
    csv_path = Path(csv_path)
    state_path = state_path_for(csv_path)
    state = _load_state(state_path)
    reply = client.catalog_since(int(state["version"]))
    if reply.status != 200:
        raise CatalogSyncError(f"the store answered {reply.status}: {reply.body.get('detail', '')}")
    delta = reply.body
    missing = [key for key in ("version", "items", "removed", "full") if key not in delta]
    if missing:
        raise CatalogSyncError(f"the store's catalog answer lacks {', '.join(missing)}")
    if int(delta["version"]) == 0:
        return 0
    rows: dict[str, dict[str, Any]] = {} if delta["full"] else dict(state["rows"])
    for code in delta["removed"]:
        rows.pop(code, None)
    for item in delta["items"]:
        rows[item["code"]] = item
    if delta["version"] != state["version"] or delta["full"]:
        write_atomic(csv_path, _csv(rows))
        write_atomic(state_path, json.dumps({"version": delta["version"], "rows": rows}, sort_keys=True))
    return int(delta["version"])


def _load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": 0, "rows": {}}
    try:
        state = json.loads(path.read_text())
        int(state["version"])
        dict(state["rows"])
    except (ValueError, KeyError, TypeError):
        return {"version": 0, "rows": {}}  # unreadable copy: ask for the whole catalog again
    return state


def _csv(rows: dict[str, dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for code in sorted(rows):
        row = rows[code]
        writer.writerow(["" if row.get(c) is None else row[c] for c in COLUMNS])
    return out.getvalue()
