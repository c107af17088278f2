"""Checks a cart's report (cart-trace v1 report shape) against a scenario's expectations.

Every difference is one plain sentence: a line billed that should not be, a quantity or weight
off, an alert missing or extra, the review decision wrong. An empty list means the cart did what
a correct cart does. Codes compare as GTINs (a UPC-A and its EAN-13 are one product); goods sold
by weight match within the scale's tolerance (`tools.scoring`: 5 g + 1 %).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from tools.hil.catalog import code_key
from tools.hil.compiler import Compiled
from tools.scoring import WEIGHT_TOL_G, WEIGHT_TOL_REL


def weight_tolerance_g(weight_g: float) -> float:
    return WEIGHT_TOL_G + WEIGHT_TOL_REL * weight_g


def check(report: dict[str, Any], compiled: Compiled) -> list[str]:
    expect = compiled.scenario.expect
    catalog = compiled.catalog
    problems: list[str] = []
    billed: dict[str, dict[str, Any]] = {}
    for line in report.get("items", []):
        slot = billed.setdefault(
            code_key(str(line["code"])),
            {"qty": 0, "weight_g": 0.0, "amount": 0, "name": line.get("name", line["code"])},
        )
        slot["qty"] += int(line.get("qty", 1))
        slot["amount"] += int(line.get("amount_cents", 0))
        if line.get("weight_g") is not None:
            slot["weight_g"] += float(line["weight_g"])
    total_slack = 0
    expected_total = 0
    wanted: dict[str, tuple[Any, int, float | None]] = {}
    for line in expect.items:
        item = catalog.find(line.product)
        key = code_key(item.code) if item else code_key(line.product)
        name = item.name if item else line.product
        if key in wanted:
            prev = wanted[key]
            wanted[key] = (prev[0], prev[1] + line.qty, (prev[2] or 0) + (line.weight_g or 0) or None)
        else:
            wanted[key] = (item, line.qty, line.weight_g)
        if item is None:
            problems.append(f"expectation names {name!r}, which is not in the catalog")
    for key, (item, qty, weight_g) in wanted.items():
        name = item.name if item else key
        got = billed.pop(key, None)
        if item is not None and item.by_weight:
            real = compiled.by_weight_in_basket_g.get(key)
            target = weight_g if weight_g is not None else real
            if got is None:
                problems.append(f"{name}: not billed (expected {target or 0:.0f} g)")
                continue
            if target is None:
                problems.append(f"{name}: billed {got['weight_g']:.0f} g but none went in")
                continue
            tol = weight_tolerance_g(target)
            if abs(got["weight_g"] - target) > tol:
                problems.append(f"{name}: billed {got['weight_g']:.1f} g, expected {target:.1f} g (+-{tol:.1f} g)")
            expected_total += round(target * item.price_cents / 1000)
            total_slack += math.ceil(tol * item.price_cents / 1000) + 1
            continue
        if got is None:
            problems.append(f"{name}: not billed (expected qty {qty})")
        elif got["qty"] != qty:
            problems.append(f"{name}: billed qty {got['qty']}, expected {qty}")
        elif item is not None and got["amount"] != qty * item.price_cents:
            problems.append(f"{name}: billed {got['amount']} cents, expected {qty * item.price_cents}")
        if item is not None:
            expected_total += qty * item.price_cents
    for slot in billed.values():
        what = f"{slot['weight_g']:.0f} g" if slot["weight_g"] else f"qty {slot['qty']}"
        problems.append(f"{slot['name']}: billed ({what}) but the correct bill has none")
    total = report.get("total_cents")
    target_total = expect.total_cents if expect.total_cents is not None else expected_total
    if total is None or abs(int(total) - target_total) > total_slack:
        slack = f" (+-{total_slack})" if total_slack else ""
        problems.append(f"total {total} cents, expected {target_total}{slack}")
    problems += _check_alerts(report.get("alerts", []), compiled)
    review = report.get("review") or {}
    required = bool(review.get("required"))
    reasons = list(review.get("reasons") or [])
    if required != expect.review_required:
        why = f" (reasons: {', '.join(reasons)})" if reasons else ""
        problems.append(
            f"review {'required' if required else 'not required'}{why}, expected "
            f"{'required' if expect.review_required else 'none'}"
        )
    for reason in expect.review_reasons:
        if reason not in reasons:
            problems.append(f"review reason {reason!r} missing (cart gave {reasons or 'none'})")
    return problems


def _check_alerts(alerts: list[dict[str, Any]], compiled: Compiled) -> list[str]:
    expected = list(compiled.scenario.expect.alerts)
    got = [(str(a.get("kind")), bool(a.get("resolved")), a.get("t")) for a in alerts]
    unmatched: list[tuple[str, bool, Any]] = []
    # exact expectations first, then the ones that accept either state
    expected.sort(key=lambda e: e.resolved is None)
    remaining = list(got)
    missing: list[str] = []
    for exp in expected:
        hit = next((g for g in remaining if g[0] == exp.kind and (exp.resolved is None or g[1] == exp.resolved)), None)
        if hit is None:
            state = "" if exp.resolved is None else (" resolved" if exp.resolved else " left open")
            missing.append(f"alert {exp.kind}{state} expected, not shown" + _seen_as(exp.kind, remaining))
        else:
            remaining.remove(hit)
    unmatched = remaining
    extra = Counter((k, r) for k, r, _ in unmatched)
    problems = list(missing)
    for (kind, resolved), n in sorted(extra.items()):
        times = ", ".join(f"t={t:.1f}" for k, r, t in unmatched if (k, r) == (kind, resolved) and t is not None)
        problems.append(
            f"unexpected alert {kind} ({'resolved' if resolved else 'open'}) x{n}" + (f" at {times}" if times else "")
        )
    return problems


def _seen_as(kind: str, remaining: list[tuple[str, bool, Any]]) -> str:
    states = [r for k, r, _ in remaining if k == kind]
    if not states:
        return ""
    return f" (shown {'resolved' if states[0] else 'open'} instead)"
