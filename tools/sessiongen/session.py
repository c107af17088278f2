"""One generated session: cart-trace v1 lines (as dicts) plus its ground truth, and writers for both.

`generate_session` is deterministic for a seed: the same store, seed and options give the same trace
and truth. `write_session` writes `OUT/<session_id>/trace.jsonl` and `OUT/truth/<session_id>.json`;
the trace names its catalog by a path relative to itself (by default one shared `OUT/catalog.csv`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from tools.sessiongen.catalog import Store
from tools.sessiongen.scale import ScaleParams, counts_to_grams, draw_scale_params, measure_counts, render_grams
from tools.sessiongen.shopper import Plan, Unit
from tools.sessiongen.trip import plan_session

TRUTH_VERSION = 1


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    lines: list[dict]  # the trace, header first
    truth: dict


def generate_session(
    store: Store,
    seed: int | np.random.Generator | list[int],
    session_id: str,
    kind: str = "honest",
    sps: float = 80.0,
    unit: str = "g",
    catalog_ref: str = "../catalog.csv",
    cart_id: str | None = None,
    block_s: float = 1.0,
) -> Session:
    """Generate one session in memory.

    `kind`: "honest" or an incident kind (`trip.INCIDENT_KINDS`); `unit`: "g" or "counts";
    `catalog_ref`: the catalog path written in the header, relative to the trace file.
    """
    if unit not in ("g", "counts"):
        raise ValueError(f"unit must be 'g' or 'counts', got {unit!r}")
    if not sps > 0:
        raise ValueError(f"sps must be positive, got {sps}")
    rng = np.random.default_rng(seed)
    params = draw_scale_params(rng, sps)
    plan = plan_session(store, rng, kind)
    force, _ = render_grams(params, plan.actions, plan.duration_s, rng)
    counts = measure_counts(params, force, rng)
    if unit == "counts":
        values: list = counts.tolist()
        scale_header = {"unit": "counts", "offset": params.offset_counts, "counts_per_gram": params.counts_per_gram}
    else:
        values = np.round(counts_to_grams(params, counts), 2).tolist()
        scale_header = {"unit": "g"}
    header = {
        "type": "header",
        "version": 1,
        "catalog": catalog_ref,
        "scale": scale_header,
        "cart_id": cart_id or f"cart-{int(rng.integers(1, 200)):03d}",
        "session_id": session_id,
    }
    lines = [header, *_merge(values, sps, plan, block_s)]
    truth = _truth(session_id, kind, plan, params)
    return Session(session_id, lines, truth)


def _merge(values: list, sps: float, plan: Plan, block_s: float) -> list[dict]:
    """Scale blocks of about block_s seconds interleaved with events, t never decreasing, end last."""
    block = max(1, round(block_s * sps))
    sps_out: float | int = int(sps) if float(sps).is_integer() else sps
    events = [{**e, "t": round(e["t"], 3)} for e in plan.events]
    end_t = round(plan.duration_s, 3)
    out: list[dict] = []
    j = 0
    for start in range(0, len(values), block):
        t_block = round(start / sps, 6)
        while j < len(events) and events[j]["t"] < t_block:
            out.append(_ordered(events[j]))
            j += 1
        out.append({"type": "scale", "t": t_block, "sps": sps_out, "values": values[start : start + block]})
    out.extend(_ordered(e) for e in events[j:])
    out.append({"type": "end", "t": max(end_t, out[-1]["t"])})
    return out


def _ordered(e: dict) -> dict:
    return {"type": e["type"], "t": e["t"], **{k: v for k, v in e.items() if k not in ("type", "t")}}


def half_up_cents(weight_g: float, price_per_kg_cents: int) -> int:
    """Price of a weighed item: weight (to 0.1 g) times price per kg, half up to the cent."""
    amount = Decimal(str(round(weight_g, 1))) * Decimal(price_per_kg_cents) / Decimal(1000)
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def bill_lines(units: list[Unit]) -> list[dict]:
    """The correct bill for the units still in the basket: one line per code for goods sold each,
    one line per weighed pick for goods sold by weight; ordered by first placement."""
    lines: list[dict] = []
    each: dict[str, dict] = {}
    for u in sorted((u for u in units if u.t_out is None), key=lambda u: u.t_in):
        p = u.product
        if p.sold_by == "weight":
            w = round(u.weight_g, 1)
            lines.append(
                {
                    "code": p.code,
                    "name": p.name,
                    "qty": 1,
                    "weight_g": w,
                    "amount_cents": half_up_cents(w, p.price_cents),
                }
            )
        elif p.code in each:
            each[p.code]["qty"] += 1
            each[p.code]["amount_cents"] += p.price_cents
        else:
            each[p.code] = {"code": p.code, "name": p.name, "qty": 1, "weight_g": None, "amount_cents": p.price_cents}
            lines.append(each[p.code])
    return lines


def _truth(session_id: str, kind: str, plan: Plan, params: ScaleParams) -> dict:
    items = bill_lines(plan.units)
    return {
        "version": TRUTH_VERSION,
        "session_id": session_id,
        "kind": kind,
        "incident": plan.incident,
        "items": items,
        "total_cents": sum(i["amount_cents"] for i in items),
        "duration_s": round(plan.duration_s, 3),
        "removals": plan.removals,
        "units": [
            {
                "code": u.product.code,
                "weight_g": round(u.weight_g, 1),
                "t_in": round(u.t_in, 3),
                "t_out": None if u.t_out is None else round(u.t_out, 3),
            }
            for u in plan.units
        ],
        "scanner": plan.scanner,
        "scale": {
            "noise_sd_g": round(params.noise_sd_g, 3),
            "counts_per_gram": params.counts_per_gram,
            "dead_mass_g": round(params.dead_mass_g, 1),
            "creep": round(params.creep, 5),
            "vib_rms": round(params.vib_rms, 3),
            "glitch_p": params.glitch_p,
        },
    }


def write_session(session: Session, out_dir: Path | str) -> Path:
    """Write OUT/<id>/trace.jsonl and OUT/truth/<id>.json; returns the trace path."""
    out = Path(out_dir)
    trace_dir = out / session.session_id
    trace_dir.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    path = trace_dir / "trace.jsonl"
    with path.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(line, ensure_ascii=False) + "\n" for line in session.lines)
    with (out / "truth" / f"{session.session_id}.json").open("w", encoding="utf-8") as f:
        json.dump(session.truth, f, ensure_ascii=False, indent=1)
    return path
