"""Money on screens and receipts: integer cents in, text out."""

from __future__ import annotations

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF "}


def format_cents(cents: int, currency: str = "EUR") -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    symbol = SYMBOLS.get(currency.upper(), currency.upper() + " ")
    return f"{sign}{symbol}{whole:,}.{part:02d}"
