"""GTINs carried by 2D codes: GS1 DataMatrix / GS1 QR element strings and GS1 Digital Link URLs.

Only application identifier (01), the GTIN, is used by the cart; batch, expiry and the rest are
ignored. The GTIN's check digit must hold, or nothing is returned.
"""

from __future__ import annotations

import re

from firmware.core.gtin import has_valid_check_digit

GS = "\x1d"  # the FNC1 separator as decoders report it inside raw element strings
_HRI_01 = re.compile(r"\(01\)(\d{14})")
_DIGITAL_LINK_01 = re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/01/(\d{8}|\d{12,14})(?:[/?#]|$)")


def gtin_from_gs1(text: str, is_gs1: bool = False) -> str | None:
    """The 14-digit GTIN in a 2D code's text, or None when it carries no valid GTIN.

    Understands the human-readable form `(01)09506000134352(17)...` (what zxing-cpp reports for
    GS1 symbols), a raw element string starting with `01` when the symbol is flagged GS1 (`is_gs1`),
    and GS1 Digital Link URLs `https://<host>/.../01/<gtin>/...`.
    """
    text = text.strip()
    gtin: str | None = None
    if text.startswith("(01)"):
        match = _HRI_01.match(text)
        gtin = match.group(1) if match else None
    elif is_gs1 and text.startswith("01") and len(text) >= 16:
        candidate = text[2:16]
        gtin = candidate if candidate.isdigit() else None
    else:
        match = _DIGITAL_LINK_01.match(text)
        gtin = match.group(1).zfill(14) if match else None
    if gtin is None or not has_valid_check_digit(gtin):
        return None
    return gtin
