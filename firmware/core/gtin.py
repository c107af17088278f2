"""Product codes as printed on goods: GTINs (EAN-13, UPC-A, UPC-E, EAN-8), produce PLUs and
GS1 variable-measure (in-store, price-embedded) codes.

Every retail code is reduced to one canonical key so that a UPC-A, the same code as EAN-13 with a
leading zero, and its UPC-E short form all find the same catalog row:

- GTINs become 14 digits, zero padded (GTIN-14 form);
- PLUs stay as their 4 or 5 digits;
- variable-measure codes are split into their item part and the value embedded in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CodeError(ValueError):
    """A code that cannot be a retail product code (bad length, bad check digit, not digits)."""


class CodeKind(StrEnum):
    GTIN = "gtin"
    PLU = "plu"
    VARIABLE = "variable"


def check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits before it (any GTIN length)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def has_valid_check_digit(code: str) -> bool:
    return code.isdigit() and len(code) >= 2 and check_digit(code[:-1]) == int(code[-1])


def expand_upce(code: str) -> str:
    """Expand a UPC-E code (6, 7 or 8 digits) to its 12-digit UPC-A form.

    Six digits are the bare payload (number system 0 assumed, check digit computed); seven are
    number system + payload; eight add the check digit, which must agree with the expansion.
    """
    if not code.isdigit() or len(code) not in (6, 7, 8):
        raise CodeError(f"UPC-E needs 6 to 8 digits, got {code!r}")
    if len(code) == 6:
        ns, payload, given_check = "0", code, None
    else:
        ns, payload = code[0], code[1:7]
        given_check = code[7] if len(code) == 8 else None
    if ns not in "01":
        raise CodeError(f"UPC-E number system must be 0 or 1, got {ns} in {code!r}")
    d = payload
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    upca_body = ns + body
    check = str(check_digit(upca_body))
    if given_check is not None and given_check != check:
        raise CodeError(f"UPC-E {code!r} has check digit {given_check}, expected {check}")
    return upca_body + check


def gtin14(code: str) -> str:
    """Canonical GTIN-14 of an EAN-8, UPC-A, EAN-13 or GTIN-14 code; the check digit must hold.

    Longer strings made only of extra leading zeros (as some exports pad codes) are accepted.
    """
    code = code.strip()
    if not code.isdigit():
        raise CodeError(f"a GTIN is digits only, got {code!r}")
    if len(code) > 14:
        extra = len(code) - 14
        if set(code[:extra]) != {"0"}:
            raise CodeError(f"{code!r} is longer than a GTIN")
        code = code[extra:]
    if len(code) not in (8, 12, 13, 14) and not (8 < len(code) < 12 and len(code.lstrip("0")) <= 8):
        # (an EAN-8 padded with a few zeros, as some exports write it, is still that EAN-8)
        raise CodeError(f"a GTIN has 8, 12, 13 or 14 digits, got {len(code)} in {code!r}")
    if not has_valid_check_digit(code):
        raise CodeError(f"{code!r} fails its check digit (expected {check_digit(code[:-1])})")
    return code.zfill(14)


def is_plu(code: str) -> bool:
    """IFPS produce PLU: 4 digits 3000-4999, or 5 digits with a leading 9 (organic)."""
    if not code.isdigit():
        return False
    if len(code) == 4:
        return 3000 <= int(code) <= 4999
    if len(code) == 5:
        return code[0] == "9" and 3000 <= int(code[1:]) <= 4999
    return False


def conventional_plu(code: str) -> str:
    """The 4-digit PLU an organic (9xxxx) PLU is the organic version of; others unchanged."""
    return code[1:] if len(code) == 5 and code[0] == "9" else code


@dataclass(frozen=True, slots=True)
class VariableMeasureLayout:
    """Where a store's in-store labels put the item number and the embedded value.

    Positions index the 13-digit (EAN-13) form; a UPC-A label starting with 2 is the EAN-13 form
    starting with 02. The default is the common `2 P IIIII VVVVV C` layout with a price in cents.
    """

    prefixes: tuple[str, ...] = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "02")
    item_end: int = 7
    value_start: int = 7
    value_end: int = 12
    value_is_price: bool = True  # False: the value is a weight in grams

    def matches(self, ean13: str) -> bool:
        return any(ean13.startswith(p) for p in self.prefixes)

    def item_key(self, ean13: str) -> str:
        """The code with the value zeroed and the check digit recomputed: how catalogs list it."""
        body = ean13[: self.value_start] + "0" * (self.value_end - self.value_start) + ean13[self.value_end : 12]
        return "0" + body + str(check_digit(body))  # GTIN-14

    def value(self, ean13: str) -> int:
        return int(ean13[self.value_start : self.value_end])


DEFAULT_LAYOUT = VariableMeasureLayout()


@dataclass(frozen=True, slots=True)
class ParsedCode:
    """A code read from a label or typed by the shopper, reduced to its catalog key."""

    text: str  # as read
    kind: CodeKind
    key: str  # GTIN-14, PLU digits, or the variable-measure item key (GTIN-14 with value zeroed)
    embedded_value: int | None = None  # cents or grams from a variable-measure label


def parse_code(
    text: str, symbology: str | None = None, layout: VariableMeasureLayout | None = DEFAULT_LAYOUT
) -> ParsedCode:
    """Parse a scanned or keyed code; raises CodeError when it cannot be a product code.

    An 8-digit code is EAN-8 unless the reader said `upce`; a 6- or 7-digit code is UPC-E.
    """
    text = text.strip()
    if not text.isdigit():
        raise CodeError(f"a product code is digits only, got {text!r}")
    if len(text) in (6, 7) or (symbology == "upce" and len(text) == 8):
        return _gtin_or_variable(text, expand_upce(text), layout)
    # (a reader may also report a UPC-E already expanded to its 12- or 13-digit form)
    if symbology is None and is_plu(text):
        return ParsedCode(text, CodeKind.PLU, text)
    if symbology == "plu":
        if not is_plu(text):
            raise CodeError(f"{text!r} is not a produce PLU (3000-4999, or 93000-94999 organic)")
        return ParsedCode(text, CodeKind.PLU, text)
    return _gtin_or_variable(text, text, layout)


def _gtin_or_variable(text: str, digits: str, layout: VariableMeasureLayout | None) -> ParsedCode:
    key = gtin14(digits)
    ean13 = key[1:]
    if key[0] == "0" and layout is not None and layout.matches(ean13):
        return ParsedCode(text, CodeKind.VARIABLE, layout.item_key(ean13), layout.value(ean13))
    return ParsedCode(text, CodeKind.GTIN, key)


def catalog_key(code: str, layout: VariableMeasureLayout | None = DEFAULT_LAYOUT) -> str:
    """The key a catalog row's code is stored under (PLUs as is, GTINs as GTIN-14)."""
    code = code.strip()
    if is_plu(code):
        return code
    if layout is not None and len(code) == 13 and code.isdigit() and layout.matches(code):
        # listed with the value zeroed: its printed check digit may be that of no real label
        return layout.item_key(code)
    key = gtin14(code)
    if layout is not None and layout.matches(key[1:]):
        return layout.item_key(key[1:])
    return key


def same_maker(key_a: str, key_b: str) -> bool:
    """Do two GTIN-14 keys share a GS1 company prefix? Products of one range (flavours, sizes) are
    numbered by their maker under one prefix, and a large maker holds a run of them (Barilla:
    807680x): an EAN-13 is compared on its first 6 digits (a country prefix and the start of the
    company number), a UPC-A on its number system and 5-digit company number. EAN-8 and in-store
    codes (prefixes 02, 20-29) carry no maker's prefix; PLUs are not GTINs."""

    def maker(key: str) -> str | None:
        if len(key) != 14 or not key.isdigit() or key.startswith("000000") or key[1] == "2" or key[1:3] == "02":
            return None
        return key[1:8] if key[1] == "0" else key[1:7]

    a = maker(key_a)
    return a is not None and a == maker(key_b)
