"""What the cart believes: scanned units, weight nobody has explained yet, alerts, and the bill.

Plain data with small helpers; the decisions live in `fusion.py`. A unit is charged only once
its weight has gone into the basket: a scan alone never charges the shopper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from firmware.core.catalog import Product


class AlertKind(StrEnum):
    UNSCANNED_ITEM = "unscanned_item"
    WEIGHT_MISMATCH = "weight_mismatch"
    SCAN_NOT_PLACED = "scan_not_placed"
    UNKNOWN_CODE = "unknown_code"
    REMOVAL_UNIDENTIFIED = "removal_unidentified"
    SCALE_FAULT = "scale_fault"
    CAMERA_FAULT = "camera_fault"


class UnitState(StrEnum):
    PENDING = "pending"  # scanned or keyed, nothing went in yet
    PLACED = "placed"  # in the basket and on the bill
    LIFTED = "lifted"  # weight left, off the bill; put back soon, it returns without an alert
    REMOVED = "removed"
    CANCELLED = "cancelled"  # scan withdrawn, never charged


@dataclass(slots=True)
class Unit:
    uid: int
    product: Product | None  # None: an unknown code
    code: str  # as scanned or keyed
    price_cents: int  # locked at scan: per unit, or per kg when sold by weight
    scanned_t: float
    state: UnitState = UnitState.PENDING
    weight_g: float | None = None  # measured when it went in
    placed_with: int = 1  # units that went in together (each one's weight is then a share of theirs)
    placed_t: float | None = None
    left_t: float | None = None
    verified: bool = False  # its weight was checked against an expectation
    label_price: bool = False  # variable-measure label: price printed on the item
    alert_id: int | None = None  # its open unknown_code or scan_not_placed alert
    old_weight_checked: bool = False  # whether it was tried against weight that went in unscanned earlier
    knocked: bool = False  # went in knocking another lot, so its weighing carries that lot's shift

    @property
    def by_weight(self) -> bool:
        return self.product is not None and self.product.by_weight and not self.label_price

    @property
    def weight_unknown(self) -> bool:
        """A unit of a product nobody gave a weight: what it weighs is only what the cart sees. Not goods
        sold by weight, which have no unit weight to know (nor count in a lump)."""
        return self.product is not None and self.product.weight_g is None and not self.by_weight

    @property
    def key(self) -> str:
        return self.product.key if self.product else f"unknown:{self.code}"

    def amount_cents(self) -> int:
        if self.by_weight:
            grams = Decimal(str(self.weight_g or 0.0))
            cents = (grams * self.price_cents / 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            return int(cents)
        return self.price_cents


@dataclass(slots=True)
class HeldChange:
    """A settled change not (yet) explained by any scan: waits for a scan, a return, an answer."""

    hid: int
    t: float
    delta_g: float
    noise_g: float
    decide_t: float  # grace ends: raise an alert if still unexplained
    alert_id: int | None = None
    mismatch_uid: int | None = None  # the pending unit it failed to fit, if any
    candidates: tuple[tuple[int, ...], ...] = ()  # weight out: the groups of units it may have been


@dataclass(slots=True)
class Alert:
    aid: int
    t: float
    kind: AlertKind
    detail: str
    resolved: bool = False
    resolved_t: float | None = None
    resolution: str = ""

    def to_report(self) -> dict[str, object]:
        return {"t": round(self.t, 3), "kind": str(self.kind), "resolved": self.resolved}


@dataclass(frozen=True, slots=True)
class BillLine:
    code: str
    name: str
    qty: int
    weight_g: float | None
    amount_cents: int
    unit_price_cents: int

    def to_report(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "qty": self.qty,
            "weight_g": self.weight_g,
            "amount_cents": self.amount_cents,
        }


@dataclass(slots=True)
class Basket:
    units: dict[int, Unit] = field(default_factory=dict)
    held: dict[int, HeldChange] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def in_state(self, *states: UnitState) -> list[Unit]:
        return [u for u in self.units.values() if u.state in states]

    def guessed_alone(self, key: str) -> list[Unit]:
        """Units of this product placed as one, unverified: for a product nobody knows the weight of,
        the cart's guess at a change that may have been two or more put in together."""
        return [
            u
            for u in self.in_state(UnitState.PLACED)
            if u.key == key and not u.verified and u.placed_with == 1 and u.weight_g
        ]

    def open_alerts(self) -> list[Alert]:
        return [a for a in self.alerts if not a.resolved]

    def alert(self, aid: int | None) -> Alert | None:
        if aid is None:
            return None
        return next((a for a in self.alerts if a.aid == aid), None)

    def left_untold(self) -> set[int]:
        """Units kept off the bill for weight that left while the cart cannot tell what it was: of the
        candidates, the dearest (ties: the latest in). Whichever it was, the shopper is not charged for
        more than the basket holds; the shopper's answer or the review says which it really was."""
        out: set[int] = set()
        for held in sorted(self.held.values(), key=lambda h: h.t):
            options = [
                group
                for group in held.candidates
                if out.isdisjoint(group) and all(self.units[uid].state is UnitState.PLACED for uid in group)
            ]
            if options:
                out.update(max(options, key=self._dearest_first))
        return out

    def _dearest_first(self, group: tuple[int, ...]) -> tuple[int, float]:
        units = [self.units[uid] for uid in group]
        return sum(u.amount_cents() for u in units), max(u.placed_t or 0.0 for u in units)

    def bill_lines(self) -> list[BillLine]:
        """Lines in the order products first went in; each-units of one product and price merge."""
        lines: list[BillLine] = []
        each: dict[tuple[str, int], int] = {}
        untold = self.left_untold()
        placed = [u for u in self.in_state(UnitState.PLACED) if u.uid not in untold]
        charged = sorted(placed, key=lambda u: (u.placed_t or 0.0, u.uid))
        for unit in charged:
            if unit.product is None:
                continue
            name = unit.product.name
            if unit.by_weight:
                weight = round(unit.weight_g or 0.0, 1)
                lines.append(BillLine(unit.product.code, name, 1, weight, unit.amount_cents(), unit.price_cents))
                continue
            slot = each.get((unit.key, unit.price_cents))
            if slot is None:
                each[(unit.key, unit.price_cents)] = len(lines)
                lines.append(BillLine(unit.product.code, name, 1, None, unit.price_cents, unit.price_cents))
            else:
                old = lines[slot]
                lines[slot] = BillLine(
                    old.code,
                    name,
                    old.qty + 1,
                    None,
                    old.amount_cents + unit.price_cents,
                    old.unit_price_cents,
                )
        return lines

    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.bill_lines())
