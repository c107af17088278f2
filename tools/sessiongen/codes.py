"""Product codes as a store prints them, from the messy codes found in open product data.

Open Food Facts stores codes with arbitrary zero padding. A shelf label or pack carries one printed
form: EAN-13, UPC-A (12 digits, the same GTIN as an EAN-13 with a leading 0) or EAN-8. This module
turns a raw code into that printed form (or rejects it), and compresses UPC-A codes into the UPC-E
form small US packs carry. GS1 arithmetic comes from `firmware.core.gtin`.
"""

from __future__ import annotations

from firmware.core.gtin import CodeError, check_digit, expand_upce, gtin14


def printed_code(raw: str) -> str | None:
    """The printed EAN-13 / UPC-A / EAN-8 form of a raw code, or None when it cannot be a retail code.

    Rejected: non-digits, failed check digits, GTIN-14 case codes, restricted-circulation numbers that
    a store reuses for its own variable-measure labels (EAN-13 2x, UPC-A 2x), EAN-8 velocity codes
    (leading 0) and UPC-A codes without a company prefix (five leading zeros).
    """
    digits = raw.strip()
    if not digits.isdigit() or not digits.lstrip("0"):
        return None
    try:
        key = gtin14(digits)
    except CodeError:
        return None
    if key[0] != "0":
        return None  # GTIN-14: outer case, not a consumer unit
    ean13 = key[1:]
    if ean13[0] != "0":
        return None if ean13[0] == "2" else ean13
    significant = len(digits.lstrip("0"))
    if key[:6] == "000000" and significant <= 8:
        ean8 = key[6:]
        return None if ean8[0] == "0" else ean8
    upca = ean13[1:]
    if upca[0] == "2" or upca[:5] == "00000":
        return None
    return upca


def symbology_of(printed: str) -> str:
    """Symbology of a printed code: ean13, upca or ean8."""
    return {13: "ean13", 12: "upca", 8: "ean8"}[len(printed)]


def upce_of(upca: str) -> str | None:
    """The 8-digit UPC-E form of a 12-digit UPC-A code, or None when it has no zero-suppressed form."""
    if len(upca) != 12 or not upca.isdigit() or upca[0] not in "01":
        return None
    ns, maker, item, check = upca[0], upca[1:6], upca[6:11], upca[11]
    if maker[2] in "012" and maker[3:5] == "00" and item[:2] == "00":
        payload = maker[:2] + item[2:5] + maker[2]
    elif maker[3:5] == "00" and item[:3] == "000":
        payload = maker[:3] + item[3:5] + "3"
    elif maker[4] == "0" and item[:4] == "0000":
        payload = maker[:4] + item[4] + "4"
    elif item[:4] == "0000" and item[4] in "56789":
        payload = maker + item[4]
    else:
        return None
    upce = ns + payload + check
    try:
        return upce if expand_upce(upce) == upca else None
    except CodeError:
        return None


def store_upca(number: int) -> str:
    """A store-assigned UPC-A code (number system 4: in-store use, no embedded price or weight)."""
    body = "4" + f"{number:010d}"
    if len(body) != 11:
        raise ValueError(f"store item number {number} does not fit a UPC-A code")
    return body + str(check_digit(body))
