"""Shopper model: one trip through the store as a timeline of scans, screen touches and physical actions.

The shopper walks the cart between shelves (pushing: vibration and bumps), picks goods, scans each
unit with the cart's hand scanner (one beep = one `code` event) before putting it in or a few seconds
after, sometimes scans two units and puts them in together or one by one, keys produce by PLU and
puts the bag in to be weighed, buys twin items together, sometimes puts something back (announcing it
on the screen before, just after, or not at all), then checks out. At most one incident (an unscanned
item, a swap, a scan never placed, a double scan) is injected; the ledger of physical units is the
ground truth. All timing figures are explained in WORLD.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tools.sessiongen.catalog import Product, Store
from tools.sessiongen.produce import draw_pick
from tools.sessiongen.scale import Action, HandRest, Lift, Place, Push, Shift

INCIDENT_KINDS = ("unscanned_item", "swap", "scan_not_placed", "scanned_twice")
SESSION_KINDS = ("honest", *INCIDENT_KINDS)


@dataclass(slots=True)
class Unit:
    """One physical unit (or one produce pick) that went into the basket."""

    product: Product
    weight_g: float  # true mass, bag included for produce
    item_id: int  # the physical lump it went in with (units placed together share it)
    t_in: float
    t_out: float | None = None
    removable: bool = True


@dataclass(slots=True)
class Plan:
    """Everything the shopper did: trace events, physical actions, the unit ledger, the incident."""

    events: list[dict] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    removals: list[dict] = field(default_factory=list)
    incident: dict | None = None
    duration_s: float = 0.0
    scanner: dict = field(default_factory=dict)


def _logn(rng: np.random.Generator, median: float, sigma: float, lo: float, hi: float) -> float:
    return float(np.clip(rng.lognormal(np.log(median), sigma), lo, hi))


class Shopper:
    """Plays one session; `run(kind)` returns the Plan."""

    def __init__(self, store: Store, rng: np.random.Generator):
        self.store, self.rng = store, rng
        self.plan = Plan()
        self.t = 0.0
        self.next_item = 0
        self.plan.scanner = {"symbology": bool(rng.random() < 0.6), "upca_as_ean13": bool(rng.random() < 0.3)}

    # ---- primitive acts -------------------------------------------------------------------------
    def _event(self, t: float, **fields) -> None:
        self.plan.events.append({"t": t, **fields})

    def scan(self, p: Product, t: float) -> None:
        sc = self.plan.scanner
        if p.upce and sc["symbology"]:
            text, sym = p.upce, "upce"
        elif len(p.code) == 12 and sc["upca_as_ean13"]:
            text, sym = "0" + p.code, "ean13"
        else:
            text, sym = p.code, {13: "ean13", 12: "upca", 8: "ean8"}[len(p.code)]
        if sc["symbology"]:
            self._event(t, type="code", text=text, symbology=sym)
        else:
            self._event(t, type="code", text=text)

    def key_plu(self, p: Product, t: float) -> None:
        self._event(t, type="input", action="plu", plu=p.code)

    def place(self, units: list[tuple[Product, float]], t: float, removable: bool = True) -> float:
        """Put units in together at t; returns the moment the hand is off."""
        rng = self.rng
        item = self.next_item
        self.next_item += 1
        mass = sum(w for _, w in units)
        p_drop = 0.25 if mass < 1000 else 0.1 if mass < 4000 else 0.03
        if rng.random() < p_drop:
            transfer, ring = rng.uniform(0.02, 0.06), rng.uniform(0.4, 1.5)
        else:
            transfer = _logn(rng, 0.35 if mass < 4000 else 0.8, 0.5, 0.1, 1.8)
            ring = rng.uniform(0.02, 0.25)
        hand = None
        if rng.random() < 0.35:
            force = _logn(rng, 60 * (1 + mass / 2000), 0.8, 10, 800)
            hand = HandRest(force, _logn(rng, 0.8, 0.6, 0.2, 4.0), rng.uniform(0.1, 0.6))
        self.plan.actions.append(Place(t, item, mass, transfer, ring, hand))
        end = t + transfer
        self._maybe_knock(end, 0.1)
        for p, w in units:
            self.plan.units.append(Unit(p, w, item, end, removable=removable))
        return end + (hand.hold_s + hand.release_s if hand else 0.0)

    def lift(self, unit: Unit, t: float) -> float:
        rng = self.rng
        grip_s, lift_s = rng.uniform(0.15, 0.6), _logn(rng, 0.3, 0.4, 0.1, 1.0)
        self.plan.actions.append(
            Lift(t, unit.item_id, unit.weight_g, _logn(rng, 40, 0.7, 5, 400), grip_s, lift_s, rng.uniform(0.02, 0.3))
        )
        unit.t_out = t + grip_s + lift_s
        self._maybe_knock(t, 0.3)
        return unit.t_out

    def _in_basket(self, t: float) -> list[Unit]:
        return [u for u in self.plan.units if u.t_in <= t and (u.t_out is None or u.t_out > t)]

    def _maybe_knock(self, t: float, p: float) -> None:
        inside = {u.item_id: u for u in self._in_basket(t)}
        if inside and self.rng.random() < p:
            victim = list(inside)[int(self.rng.integers(len(inside)))]
            self.plan.actions.append(Shift(t + self.rng.uniform(0.0, 0.3), victim, self.rng.uniform(0.05, 0.4)))

    def wait(self, median: float, sigma: float, lo: float, hi: float) -> None:
        self.t += _logn(self.rng, median, sigma, lo, hi)

    def push(self, first: bool = False) -> None:
        rng = self.rng
        dur = _logn(rng, 12, 0.7, 2, 80) / rng.uniform(0.6, 1.2)
        t0, t1 = self.t, self.t + dur
        self.plan.actions.append(Push(t0, t1, _logn(rng, 1.0, 0.3, 0.4, 2.5), bool(first and rng.random() < 0.3)))
        items = {u.item_id for u in self._in_basket(t0)}
        for item in items:  # goods slide or tip over on the way
            if rng.random() < -np.expm1(-0.002 * dur):
                self.plan.actions.append(Shift(rng.uniform(t0, t1), item, rng.uniform(0.05, 0.4)))
        self.t = t1

    # ---- buying ---------------------------------------------------------------------------------
    def unit_weight(self, p: Product) -> float:
        w = self.rng.normal(p.true_mean_g, p.true_sd_g)
        return float(np.clip(w, p.true_mean_g - 4 * p.true_sd_g, p.true_mean_g + 4 * p.true_sd_g))

    def after_place_scan_gap(self) -> float:
        return _logn(self.rng, 2.5, 0.5, 0.8, 10)

    def before_place_gap(self) -> float:
        return _logn(self.rng, 1.5, 0.5, 0.5, 8)

    def buy_each(self, p: Product, qty: int) -> None:
        rng = self.rng
        if qty >= 2 and rng.random() < 0.55:
            for _ in range(qty):  # beep per unit, then in
                self.scan(p, self.t)
                self.t += _logn(rng, 1.0, 0.4, 0.4, 3)
            self.t += self.before_place_gap() - 0.5
            weights = [(p, self.unit_weight(p)) for _ in range(qty)]
            if rng.random() < 0.6:
                self.t = self.place(weights, self.t)
            else:
                for u in weights:
                    self.t = self.place([u], self.t) + _logn(rng, 1.5, 0.4, 0.5, 4)
            return
        for _ in range(qty):
            self.buy_one(p, scan_first=bool(rng.random() < 0.75))
            self.t += _logn(rng, 1.0, 0.5, 0.3, 4)

    def buy_one(self, p: Product, scan_first: bool, placed: Product | None = None, removable: bool = True) -> float:
        """Scan one unit of p and put in one unit of `placed` (p unless a swap); returns the place time."""
        placed = placed or p
        if scan_first:
            self.scan(p, self.t)
            self.t += self.before_place_gap()
            t_place = self.t
            self.t = self.place([(placed, self.unit_weight(placed))], self.t, removable)
        else:
            t_place = self.t
            end = self.place([(placed, self.unit_weight(placed))], self.t, removable)
            self.scan(p, self.t + self.after_place_scan_gap())
            self.t = max(end, self.plan.events[-1]["t"])
        return t_place

    def buy_produce(self, p: Product) -> None:
        rng = self.rng
        assert p.produce is not None
        if p.sold_by == "weight":
            pick = draw_pick(p.produce, rng)
            self.key_plu(p, self.t)
            self.t += _logn(rng, 3.0, 0.5, 1.0, 12)
            self.t = self.place([(p, pick.total_g)], self.t)
            return
        n = int(rng.integers(p.produce.count[0], p.produce.count[1] + 1))
        pieces = [(p, draw_pick(p.produce, rng, pieces=1).total_g) for _ in range(n)]
        if n >= 2 and rng.random() < 0.5:
            for _ in range(n):
                self.key_plu(p, self.t)
                self.t += _logn(rng, 1.2, 0.4, 0.5, 3)
            self.t = self.place(pieces, self.t + _logn(rng, 2.0, 0.5, 0.5, 8))
            return
        for piece in pieces:
            self.key_plu(p, self.t)
            self.t += _logn(rng, 2.5, 0.5, 0.8, 10)
            self.t = self.place([piece], self.t) + _logn(rng, 1.0, 0.5, 0.3, 4)

    def buy_twins(self, group: list[int]) -> None:
        rng = self.rng
        k = min(len(group), 2 if rng.random() < 0.8 else 3)
        picks = [self.store.products[i] for i in rng.choice(group, size=k, replace=False)]
        mode = rng.random()
        if mode < 0.5:  # scan all, then in one by one or together
            for p in picks:
                self.scan(p, self.t)
                self.t += _logn(rng, 1.0, 0.4, 0.4, 3)
            units = [(p, self.unit_weight(p)) for p in picks]
            if mode < 0.2:
                self.t = self.place(units, self.t + self.before_place_gap())
            else:
                for u in units:
                    self.t = self.place([u], self.t + _logn(rng, 1.2, 0.4, 0.4, 4))
        else:
            for p in picks:
                self.buy_one(p, scan_first=bool(rng.random() < 0.75))
                self.t += _logn(rng, 1.0, 0.5, 0.3, 4)

    def remove_one(self) -> None:
        """Put something back: announced before, just after, or not at all."""
        rng = self.rng
        candidates = [u for u in self._in_basket(self.t) if u.removable]
        if not candidates:
            return
        unit = candidates[int(rng.integers(len(candidates)))]
        mode = str(rng.choice(["before", "after", "none"], p=[0.4, 0.35, 0.25]))
        t_remove = None
        if mode == "before":
            t_remove = self.t
            self.t += _logn(rng, 1.5, 0.5, 0.5, 6)
        t_lift = self.t
        self.t = self.lift(unit, self.t)
        if mode == "after":
            t_remove = self.t + _logn(rng, 3.0, 0.5, 1.0, 10)
            self.t = t_remove
        if t_remove is not None:
            self._event(t_remove, type="input", action="remove", code=unit.product.code)
        self.plan.removals.append({"t": round(t_lift, 3), "code": unit.product.code, "announced": mode})
