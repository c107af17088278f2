"""Money on screens and receipts: integer cents in, text out."""

from __future__ import annotations

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}


def bill_row(
    name: str, amount_cents: int, currency: str = "EUR", qty: int | None = None, weight_g: float | None = None
) -> str:
    """One line of a bill as text: name, quantity (or grams for goods sold by weight), amount."""
    how_much = f"{weight_g:.0f} g" if weight_g else (f"x{qty}" if qty else "")
    return f"  {name[:40]:<40} {how_much:>8} {format_cents(amount_cents, currency):>10}"


def format_cents(cents: int, currency: str = "EUR") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return f"{sign}{symbol}{whole:,}.{part:02d}"
