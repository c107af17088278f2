"""A whole shopping trip: what the shopper buys, in which order, and where the one incident (if any) goes.

Builds on `shopper.Shopper`'s acts: a shopping list (regular goods, light and heavy goods, produce,
twin items), stops between pushes, occasional put-backs, checkout and the end of the session.
"""

from __future__ import annotations

import numpy as np

from tools.sessiongen.catalog import Product, Store
from tools.sessiongen.shopper import INCIDENT_KINDS, SESSION_KINDS, Plan, Shopper, _logn

# A swap puts in an item whose weight is clearly not the scanned one's: at least this far apart.
SWAP_MIN_REL = 0.3
SWAP_MIN_G = 40.0


def plan_session(store: Store, rng: np.random.Generator, kind: str = "honest") -> Plan:
    """Play one trip; `kind` is "honest" or one of INCIDENT_KINDS (exactly one incident)."""
    if kind not in SESSION_KINDS:
        raise ValueError(f"unknown session kind {kind!r}; expected one of {', '.join(SESSION_KINDS)}")
    s = Shopper(store, rng)
    lines = _shopping_list(store, rng)
    incident_at = int(rng.integers(len(lines) + 1)) if kind != "honest" else -1
    n_removals = int(rng.poisson(0.3))
    removal_at = sorted(int(i) for i in rng.integers(1, len(lines) + 1, size=n_removals))
    s.wait(3.0, 0.5, 1.0, 10.0)  # session started, cart still
    first = True
    for i in range(len(lines) + 1):
        if i == incident_at or i < len(lines) or removal_at.count(i):
            s.push(first)
            first = False
            s.wait(5.0, 0.7, 1.0, 40.0)  # looking at the shelf, picking up
        if i == incident_at:
            _incident(s, store, rng, kind)
            s.wait(2.0, 0.7, 0.3, 15.0)
        if i < len(lines):
            _buy(s, store, lines[i])
            s.wait(2.0, 0.7, 0.3, 15.0)  # still a moment before pushing on
        for _ in range(removal_at.count(i)):
            s.remove_one()
            s.wait(2.0, 0.7, 0.3, 15.0)
    s.push()  # to the checkout area
    s.wait(3.0, 0.5, 1.0, 10.0)
    s._event(s.t, type="input", action="checkout")
    s.t += rng.uniform(3.0, 15.0)
    plan = s.plan
    plan.duration_s = s.t
    plan.events.sort(key=lambda e: e["t"])
    return plan


def _shopping_list(store: Store, rng: np.random.Generator) -> list[tuple[str, object, int]]:
    """(what, product or twin group, quantity) per line, in shelf order."""
    n = int(np.clip(round(rng.lognormal(np.log(10), 0.6)), 2, 45))
    out: list[tuple[str, object, int]] = []
    for _ in range(n):
        u = rng.random()
        if u < 0.15 and store.produce:
            out.append(("produce", _pick(store, store.produce, rng), 1))
        elif u < 0.22 and store.light:
            out.append(("each", _pick(store, store.light, rng), _qty(rng)))
        elif u < 0.25 and store.heavy:
            out.append(("each", _pick(store, store.heavy, rng), 2 if rng.random() < 0.1 else 1))
        else:
            out.append(("each", _pick(store, store.regular, rng), _qty(rng)))
    if store.twin_groups and rng.random() < 0.35:
        group = store.twin_groups[int(rng.integers(len(store.twin_groups)))]
        out.insert(int(rng.integers(len(out) + 1)), ("twins", group, 1))
    return out


def _pick(store: Store, pool: list[int], rng: np.random.Generator) -> Product:
    return store.products[pool[int(rng.integers(len(pool)))]]


def _qty(rng: np.random.Generator) -> int:
    u = rng.random()
    return 1 if u < 0.8 else 2 if u < 0.93 else int(rng.integers(3, 7))


def _buy(s: Shopper, store: Store, line: tuple[str, object, int]) -> None:
    what, thing, qty = line
    if what == "produce":
        assert isinstance(thing, Product)
        s.buy_produce(thing)
    elif what == "twins":
        assert isinstance(thing, list)
        s.buy_twins(thing)
    else:
        assert isinstance(thing, Product)
        s.buy_each(thing, qty)


def _incident(s: Shopper, store: Store, rng: np.random.Generator, kind: str) -> None:
    """Exactly one dishonest (or careless) act, recorded in the plan with its moment and details."""
    assert kind in INCIDENT_KINDS
    p = _pick(store, store.regular + store.light, rng)
    if kind == "unscanned_item":
        t = s.t
        w = s.unit_weight(p)
        s.t = s.place([(p, w)], s.t, removable=False)
        s.plan.incident = {"kind": kind, "t": round(t, 3), "code": p.code, "name": p.name, "weight_g": round(w, 1)}
    elif kind == "swap":
        b = _clearly_different(store, p, rng)
        scan_first = bool(rng.random() < 0.75)
        n_units = len(s.plan.units)
        t = s.buy_one(p, scan_first, placed=b, removable=False)
        w = s.plan.units[n_units].weight_g
        s.plan.incident = {
            "kind": kind,
            "t": round(t, 3),
            "scanned_code": p.code,
            "scanned_name": p.name,
            "scanned_weight_g": round(p.true_mean_g, 1),
            "placed_code": b.code,
            "placed_name": b.name,
            "placed_weight_g": round(w, 1),
        }
    elif kind == "scan_not_placed":
        t = s.t
        s.scan(p, t)
        s.t += _logn(rng, 3.0, 0.5, 1.0, 10.0)  # looks at it, puts it back on the shelf
        s.plan.incident = {"kind": kind, "t": round(t, 3), "code": p.code, "name": p.name}
    else:  # scanned_twice: a double beep (or a rescan), one unit goes in
        t1 = s.t
        s.scan(p, t1)
        w = s.unit_weight(p)
        if rng.random() < 0.6:
            t2 = t1 + rng.uniform(0.3, 2.5)
            s.scan(p, t2)
            s.t = s.place([(p, w)], t2 + _logn(rng, 1.5, 0.5, 0.5, 8), removable=False)
        else:  # scans, puts it in, unsure it beeped, scans it again in the basket
            s.t += _logn(rng, 1.5, 0.5, 0.5, 8)
            s.t = s.place([(p, w)], s.t, removable=False)
            t2 = s.t + _logn(rng, 2.0, 0.5, 0.5, 8)
            s.scan(p, t2)
            s.t = t2
        s.plan.incident = {
            "kind": kind,
            "t": round(t2, 3),
            "code": p.code,
            "name": p.name,
            "first_scan_t": round(t1, 3),
        }


def _clearly_different(store: Store, a: Product, rng: np.random.Generator) -> Product:
    pool = store.regular + store.light + store.heavy
    for _ in range(500):
        b = _pick(store, pool, rng)
        if abs(b.true_mean_g - a.true_mean_g) >= max(SWAP_MIN_REL * a.true_mean_g, SWAP_MIN_G):
            return b
    raise RuntimeError(f"no product of clearly different weight from {a.code} in the store")
