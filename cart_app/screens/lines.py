"""Bill lines and pending scans as list rows (RecycleView data), shared by basket, remove and checkout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Money = Callable[[int], str]


def line_detail(line: dict[str, Any], money: Money) -> str:
    weight_g = line.get("weight_g")
    unit_cents = line.get("unit_price_cents")
    if weight_g:
        per_kg = f" at {money(unit_cents)}/kg" if unit_cents else ""
        return f"{weight_g / 1000:.3f} kg{per_kg}"
    qty = int(line.get("qty") or 1)
    if unit_cents is not None:
        return f"{qty} × {money(unit_cents)}"
    return f"Qty {qty}"


def line_rows(lines: list[dict[str, Any]], money: Money) -> list[dict[str, Any]]:
    return [
        {
            "title": str(line.get("name") or line.get("code") or "?"),
            "detail": line_detail(line, money),
            "amount": money(int(line.get("amount_cents") or 0)),
            "pending": False,
            "code": str(line.get("code") or ""),
        }
        for line in lines
    ]


def pending_rows(pending: list[dict[str, Any]], money: Money) -> list[dict[str, Any]]:
    rows = []
    for scan in pending:
        price = money(int(scan.get("price_cents") or 0)) + ("/kg" if scan.get("by_weight") else "")
        rows.append(
            {
                "title": str(scan.get("name") or scan.get("code") or "?"),
                "detail": "Waiting: put it in the cart (not charged yet)",
                "amount": f"({price})",
                "pending": True,
                "code": str(scan.get("code") or ""),
            }
        )
    return rows
