"""A staff decision on a session under review: approve the cart's bill, or correct it.

The decision, the one charge and the confirmed weighings are written in one transaction; a second
decision on the same session is refused. Confirmed weighings are what the cart's per-product weight
learning is fed: the each-sold units weighed alone that stay on the final bill ("approved", also
handed to the store's other carts as fleet weighings) and the weight changes the cart could not
explain that staff identified as a product ("identified").
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from cart_store.catalog import lookup
from cart_store.db import Charge, ConfirmedWeighing, Decision, FleetWeighing, Session, keep_latest_fleet


class DecisionError(ValueError):
    pass


@dataclass(slots=True)
class Correction:
    line_qty: dict[int, int] = field(default_factory=dict)  # bill line index -> new quantity
    identified: dict[int, str] = field(default_factory=dict)  # unexplained weighing index -> code
    added: list[tuple[str, int, float | None]] = field(default_factory=list)  # code, qty, weight_g


def price_by_weight(price_per_kg_cents: int, weight_g: float) -> int:
    cents = Decimal(str(weight_g)) * price_per_kg_cents / 1000
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decide(
    db: DbSession,
    session_pk: int,
    username: str,
    action: str,
    correction: Correction | None = None,
    note: str = "",
    now: float | None = None,
) -> Decision:
    now = time.time() if now is None else now
    row = db.get(Session, session_pk)
    if row is None:
        raise DecisionError(f"no session {session_pk}")
    if row.status != "needs_review":
        raise DecisionError("this session is not waiting for review (already decided or never needed it)")
    if action == "approve":
        items = [dict(item) for item in row.report["items"]]
        identified: dict[int, str] = {}
    elif action == "correct":
        correction = correction or Correction()
        items = _corrected_items(db, row, correction)
        identified = {  # only units sold each teach a unit weight
            index: code
            for index, code in correction.identified.items()
            if (product := lookup(db, code)) is not None and product.sold_by == "each"
        }
    else:
        raise DecisionError(f"unknown action {action!r}")
    total = sum(int(item["amount_cents"]) for item in items)
    decision = Decision(
        session_pk=row.id,
        username=username,
        action=action,
        items=items,
        total_cents=total,
        note=note[:2000],
        decided_unix=now,
    )
    db.add(decision)
    try:
        db.flush()
    except IntegrityError:
        db.rollback()
        raise DecisionError("this session was already decided") from None
    db.add(Charge(session_pk=row.id, amount_cents=total, source="review", created_unix=now))
    vouched = confirmed_weighings(row.weighings, items, identified, row.report["items"])
    for code, weight_g, source in vouched:
        db.add(
            ConfirmedWeighing(
                cart_id=row.cart_id,
                session_id=row.session_id,
                decision_id=decision.id,
                code=code,
                weight_g=weight_g,
                source=source,
                decided_unix=now,
            )
        )
        if source == "approved":  # a unit weighed alone that a person vouched for: every cart learns it
            db.add(
                FleetWeighing(
                    cart_id=row.cart_id, session_id=row.session_id, code=code, weight_g=weight_g, received_unix=now
                )
            )
    keep_latest_fleet(db, (code for code, _weight_g, source in vouched if source == "approved"))
    row.status = "reviewed"
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise DecisionError("this session was already decided") from None
    return decision


def _corrected_items(db: DbSession, row: Session, correction: Correction) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for index, line in enumerate(row.report["items"]):
        qty = correction.line_qty.get(index, int(line["qty"]))
        if qty < 0:
            raise DecisionError(f"line {index + 1}: quantity cannot be negative")
        if qty == 0:
            continue
        if line["weight_g"] is not None:
            if qty != 1:
                raise DecisionError(f"line {index + 1}: a product sold by weight has quantity 0 or 1")
            items.append(dict(line))
            continue
        unit = int(line["amount_cents"]) // max(int(line["qty"]), 1)
        items.append({**line, "qty": qty, "amount_cents": unit * qty})
    weighings = row.weighings
    for index, code in correction.identified.items():
        if not 0 <= index < len(weighings) or weighings[index]["code"] is not None:
            raise DecisionError(f"weighing {index} is not an unexplained weight change")
        items.append(_line(db, code, 1, float(weighings[index]["weight_g"])))
    for code, qty, weight_g in correction.added:
        items.append(_line(db, code, qty, weight_g))
    return items


def _line(db: DbSession, code: str, qty: int, weight_g: float | None) -> dict[str, Any]:
    product = lookup(db, code)
    if product is None:
        raise DecisionError(f"code {code!r} is not in the store catalog")
    if product.sold_by == "weight":
        if weight_g is None or weight_g <= 0:
            raise DecisionError(f"{product.name} is sold by weight: give its weight in grams")
        amount = price_by_weight(product.price_cents, weight_g)
        return {"code": code, "name": product.name, "qty": 1, "weight_g": weight_g, "amount_cents": amount}
    if qty < 1:
        raise DecisionError(f"{product.name}: quantity must be at least 1")
    amount = product.price_cents * qty
    return {"code": code, "name": product.name, "qty": qty, "weight_g": None, "amount_cents": amount}


def confirmed_weighings(
    weighings: list[dict[str, Any]],
    items: list[dict[str, Any]],
    identified: dict[int, str],
    billed: list[dict[str, Any]] | None = None,
) -> list[tuple[str, float, str]]:
    """(code, weight_g, source) for each weighing a person has now vouched for: units weighed alone
    that stay on the bill ("approved"), and unexplained changes staff named ("identified"). A product
    whose quantity staff changed from what the cart `billed` vouches for none of its weighings: the
    cart counted its units wrong, so a weighing may hold two units put in together, or none of them."""
    before, after = _each_counts(billed if billed is not None else items), _each_counts(items)
    recounted = {code for code in before | after if before[code] != after[code]}
    approved = staying_on_bill(weighings, items, lambda w: bool(w.get("alone")) and w["code"] not in recounted)
    rows = {index: (code, grams, "approved") for index, code, grams in approved}
    rows |= {index: (code, float(weighings[index]["weight_g"]), "identified") for index, code in identified.items()}
    return [rows[index] for index in sorted(rows)]


def _each_counts(items: list[dict[str, Any]]) -> Counter[str]:
    counts = Counter[str]()
    for item in items:
        if item["weight_g"] is None:
            counts[item["code"]] += int(item["qty"])
    return counts


def staying_on_bill(
    weighings: list[dict[str, Any]], items: list[dict[str, Any]], counts: Callable[[dict[str, Any]], bool] | None = None
) -> Iterator[tuple[int, str, float]]:
    """(index, code, grams) of the weighings of units sold each that the final bill still holds: a
    product's weighings in order, as many as its quantity on the bill; `counts`, if given, picks which may."""
    room = _each_counts(items)
    for index, weighing in enumerate(weighings):
        code = weighing["code"]
        if code is None or weighing["by_weight"] or not weighing["weight_g"] > 0:
            continue
        if counts is not None and not counts(weighing):
            continue
        if room[code] > 0:
            room[code] -= 1
            yield index, code, float(weighing["weight_g"])
