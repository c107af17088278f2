"""Scores a replay report against a generated session's ground truth (kept apart from the trace).

- *billed exactly*: every product charged in the right quantity; goods sold by weight within the
  scale's tolerance (a few grams, and a cent of rounding);
- *overcharged*: the bill holds something the cart does not (a product, a unit, or grams beyond
  the tolerance) — *silently* when no person reviews the session;
- an incident is *caught* when the session goes to review or the bill was corrected on the cart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from firmware.core.gtin import CodeError, catalog_key

WEIGHT_TOL_G = 5.0
WEIGHT_TOL_REL = 0.01


@dataclass(slots=True)
class Score:
    kind: str
    review: bool
    reasons: list[str]
    alerts: int
    exact: bool
    overcharged: bool
    undercharged: bool
    differences: list[str] = field(default_factory=list)
    cause: str | None = None  # why it failed, when a benchmark tells (tools/failure_causes.py)

    @property
    def honest(self) -> bool:
        return self.kind == "honest"

    @property
    def failed(self) -> bool:
        """An honest session needing review or billed wrong; an incident neither caught nor corrected."""
        return (self.review or not self.exact) if self.honest else not self.caught

    @property
    def caught(self) -> bool:
        return self.review or self.exact

    @property
    def silent_overcharge(self) -> bool:
        return self.overcharged and not self.review


def product_key(code: str) -> str:
    """A code as the product it names (UPC-A, EAN-13 and UPC-E forms meet); as printed if it is not a GTIN."""
    try:
        return catalog_key(code)
    except CodeError:
        return code


def _lines(items: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    merged: dict[str, dict[str, float]] = defaultdict(lambda: {"qty": 0, "weight_g": 0.0, "amount": 0, "by_weight": 0})
    for item in items:
        line = merged[product_key(item["code"])]
        line["qty"] += item["qty"]
        line["amount"] += item["amount_cents"]
        if item.get("weight_g") is not None:
            line["weight_g"] += item["weight_g"]
            line["by_weight"] = 1
    return merged


def score(report: dict[str, Any], truth: dict[str, Any]) -> Score:
    billed, real = _lines(report["items"]), _lines(truth["items"])
    over = under = False
    diffs: list[str] = []
    for key in sorted(set(billed) | set(real)):
        b, r = billed.get(key), real.get(key)
        if r is None:
            over = True
            diffs.append(f"{key}: billed {b['qty'] if b else 0}, not in the cart")
            continue
        if b is None:
            under = True
            diffs.append(f"{key}: in the cart ({r['qty']}), not billed")
            continue
        if r["by_weight"]:
            tol = WEIGHT_TOL_G + WEIGHT_TOL_REL * r["weight_g"]
            if b["weight_g"] > r["weight_g"] + tol:
                over = True
                diffs.append(f"{key}: billed {b['weight_g']:.0f} g, cart holds {r['weight_g']:.0f} g")
            elif b["weight_g"] < r["weight_g"] - tol:
                under = True
                diffs.append(f"{key}: billed {b['weight_g']:.0f} g, cart holds {r['weight_g']:.0f} g")
            continue
        if b["qty"] > r["qty"]:
            over = True
            diffs.append(f"{key}: billed {b['qty']:.0f}, cart holds {r['qty']:.0f}")
        elif b["qty"] < r["qty"]:
            under = True
            diffs.append(f"{key}: billed {b['qty']:.0f}, cart holds {r['qty']:.0f}")
        elif b["amount"] != r["amount"]:
            if b["amount"] > r["amount"]:
                over = True
            else:
                under = True
            diffs.append(f"{key}: billed {b['amount']} cents, should be {r['amount']}")
    review = report["review"]
    return Score(
        kind=truth["kind"],
        review=bool(review["required"]),
        reasons=list(review["reasons"]),
        alerts=len(report["alerts"]),
        exact=not (over or under),
        overcharged=over,
        undercharged=under,
        differences=diffs,
    )
