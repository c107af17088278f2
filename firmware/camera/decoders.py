"""Barcode decoders behind one small interface: zxing-cpp (primary) and ZBar via pyzbar (fallback).

Every result is normalised to a `Decoded`: the main code's digits (add-ons dropped), a symbology
name as the trace format uses them (`ean13`, `ean8`, `upca`, `upce`, plus `gs1-datamatrix` and
`gs1-qr` for 2D codes carrying a GTIN), and the GTIN-14 key used to compare reads. Anything that is
not a valid retail code (bad check digit, wrong length, a 2D code without a GTIN) is dropped here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import zxingcpp

from firmware.camera.gs1 import gtin_from_gs1
from firmware.core.gtin import CodeError, parse_code


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str  # main code digits, as the core's parse_code takes them with `symbology`
    symbology: str
    key: str  # GTIN-14 of the whole code (price digits of in-store labels included)
    decoder: str
    box: tuple[int, int, int, int] | None = field(default=None, compare=False)  # x0, y0, x1, y1 px


class Decoder(Protocol):
    name: str

    def decode(self, gray: np.ndarray, with_2d: bool = False) -> list[Decoded]: ...


def normalise_linear(text: str, symbology: str, decoder: str, upce_short: str | None = None) -> Decoded | None:
    """A 1D retail read reduced to its main code, or None when it is not a valid retail code."""
    digits = text.strip()
    if not digits.isdigit():
        return None
    if upce_short is not None and upce_short.isdigit() and len(upce_short) == 8:
        digits, symbology = upce_short, "upce"
    elif len(digits) in (15, 18, 14, 17) and symbology != "upce":  # add-on digits appended
        digits = digits[:13] if len(digits) in (15, 18) else digits[:12]
    if symbology == "upce" and len(digits) not in (6, 7, 8):
        symbology = "upca" if len(digits) == 12 else "ean13"
    if symbology == "ean13" and len(digits) == 12:
        symbology = "upca"
    if len(digits) not in (6, 7, 8, 12, 13):
        return None
    try:
        parsed = parse_code(digits, "upce" if symbology == "upce" else None, layout=None)
    except CodeError:
        return None
    if len(digits) == 8 and symbology not in ("ean8", "upce"):
        symbology = "ean8"
    return Decoded(digits, symbology, parsed.key, decoder)


def normalise_2d(text: str, symbology: str, decoder: str, is_gs1: bool) -> Decoded | None:
    gtin = gtin_from_gs1(text, is_gs1)
    if gtin is None:
        return None
    main = gtin[1:] if gtin[0] == "0" else gtin  # EAN-13 form when it has one
    return Decoded(main, symbology, gtin, decoder)


_ZXING_LINEAR = {
    zxingcpp.BarcodeFormat.EAN13: "ean13",
    zxingcpp.BarcodeFormat.EAN8: "ean8",
    zxingcpp.BarcodeFormat.UPCA: "upca",
    zxingcpp.BarcodeFormat.UPCE: "upce",
}
_ZXING_2D = {zxingcpp.BarcodeFormat.DataMatrix: "gs1-datamatrix", zxingcpp.BarcodeFormat.QRCode: "gs1-qr"}
_RETAIL = (zxingcpp.BarcodeFormat.EAN13, zxingcpp.BarcodeFormat.EAN8, zxingcpp.BarcodeFormat.UPCA,
           zxingcpp.BarcodeFormat.UPCE)  # fmt: skip
_ONLY_2D = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix)
_WITH_2D = (*_RETAIL, *_ONLY_2D)


class ZxingDecoder:
    """zxing-cpp: fast, strict check-digit handling, reads any 1D orientation and 2D codes."""

    name = "zxing"

    def __init__(self, only_2d: bool = False, thorough: bool = True) -> None:
        """`only_2d`: look for DataMatrix / QR only; `thorough=False` skips the downscaled and
        inverted passes (a third of the cost on a 1280x720 frame)."""
        self.only_2d = only_2d
        self.thorough = thorough

    def decode(self, gray: np.ndarray, with_2d: bool = False) -> list[Decoded]:
        formats = _ONLY_2D if self.only_2d else (_WITH_2D if with_2d else _RETAIL)
        results = zxingcpp.read_barcodes(gray, formats=formats, try_downscale=self.thorough, try_invert=self.thorough)
        out: list[Decoded] = []
        for barcode in results:
            if barcode.format in _ZXING_LINEAR:
                short = barcode.extra.get("UPCE") if barcode.format == zxingcpp.BarcodeFormat.UPCE else None
                decoded = normalise_linear(barcode.text, _ZXING_LINEAR[barcode.format], self.name, short)
            elif barcode.format in _ZXING_2D:
                is_gs1 = barcode.content_type == zxingcpp.ContentType.GS1
                decoded = normalise_2d(barcode.text, _ZXING_2D[barcode.format], self.name, is_gs1)
            else:
                decoded = None
            if decoded is not None:
                out.append(replace(decoded, box=_box(barcode.position)))
        return out


def _box(position) -> tuple[int, int, int, int]:
    xs = [position.top_left.x, position.top_right.x, position.bottom_left.x, position.bottom_right.x]
    ys = [position.top_left.y, position.top_right.y, position.bottom_left.y, position.bottom_right.y]
    return min(xs), min(ys), max(xs), max(ys)


class ZbarDecoder:
    """ZBar through pyzbar: a different scan-line decoder, strong on blurred and small 1D codes.

    Needs the system library libzbar0; `ZbarDecoder.load()` returns None when it is missing.
    """

    name = "zbar"

    def __init__(self) -> None:
        from pyzbar import pyzbar  # raises ImportError without libzbar

        self._pyzbar = pyzbar
        symbols = pyzbar.ZBarSymbol
        self._linear = [symbols.EAN13, symbols.EAN8, symbols.UPCA, symbols.UPCE]
        self._with_2d = [*self._linear, symbols.QRCODE]

    @classmethod
    def load(cls) -> ZbarDecoder | None:
        try:
            return cls()
        except (ImportError, OSError):
            return None

    def decode(self, gray: np.ndarray, with_2d: bool = False) -> list[Decoded]:
        image = np.ascontiguousarray(gray)
        results = self._pyzbar.decode(image, symbols=self._with_2d if with_2d else self._linear)
        out: list[Decoded] = []
        for result in results:
            text = result.data.decode("ascii", errors="replace")
            if result.type == "QRCODE":
                decoded = normalise_2d(text, "gs1-qr", self.name, is_gs1=False)
            else:
                sym = {"EAN13": "ean13", "EAN8": "ean8", "UPCA": "upca", "UPCE": "upce"}.get(result.type)
                decoded = normalise_linear(text, sym, self.name) if sym else None
            if decoded is not None:
                out.append(decoded)
        return out
