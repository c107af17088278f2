"""The store's product catalog (the spec's CSV) and lookups by anything a shopper can scan or key.

A broken row is reported with its line number and skipped; the rest still loads. Codes are stored
under their canonical key (see `gtin.py`), so UPC-A, EAN-13 and UPC-E forms of one product meet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from firmware.core.gtin import (
    DEFAULT_LAYOUT,
    CodeError,
    CodeKind,
    ParsedCode,
    VariableMeasureLayout,
    catalog_key,
    conventional_plu,
    parse_code,
)

REQUIRED_COLUMNS = ("code", "name", "price_cents")


class SoldBy(StrEnum):
    EACH = "each"
    WEIGHT = "weight"


class CatalogError(ValueError):
    """The catalog as a whole cannot be used (missing file, missing required column)."""


class UnknownCode(LookupError):
    """A code that is malformed or not in the catalog; `reason` says which, for the shopper."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text}: {reason}")


@dataclass(frozen=True, slots=True)
class Product:
    code: str  # as the catalog prints it
    key: str
    name: str
    price_cents: int  # per unit, or per kilogram when sold by weight
    sold_by: SoldBy = SoldBy.EACH
    weight_g: float | None = None
    weight_sd_g: float | None = None
    variable: bool = False  # an in-store label row: the price comes from the label

    @property
    def by_weight(self) -> bool:
        return self.sold_by is SoldBy.WEIGHT


@dataclass(frozen=True, slots=True)
class Match:
    """A catalog hit for one scan or keyed code."""

    product: Product
    parsed: ParsedCode
    label_price_cents: int | None = None  # from a variable-measure label
    label_weight_g: float | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class Catalog:
    products: dict[str, Product] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    layout: VariableMeasureLayout = DEFAULT_LAYOUT
    source: str = ""
    sha256: str = ""  # of the text it was loaded from: a session records which catalog priced it

    def __len__(self) -> int:
        return len(self.products)

    def lookup(self, text: str, symbology: str | None = None) -> Match:
        try:
            parsed = parse_code(text, symbology, self.layout)
        except CodeError as exc:
            raise UnknownCode(text, f"not a valid product code ({exc})") from None
        product = self.products.get(parsed.key)
        if product is None and parsed.kind is CodeKind.PLU:
            product = self.products.get(conventional_plu(parsed.key))
        if product is None and symbology is None and len(text) == 8:
            product = self._as_upce(text)
        if product is None:
            raise UnknownCode(text, "not in the store's catalog")
        if parsed.kind is CodeKind.VARIABLE and parsed.embedded_value is not None:
            if self.layout.value_is_price:
                return Match(product, parsed, label_price_cents=parsed.embedded_value)
            return Match(product, parsed, label_weight_g=float(parsed.embedded_value))
        return Match(product, parsed)

    def knows(self, text: str, symbology: str | None = None) -> bool:
        try:
            self.lookup(text, symbology)
        except UnknownCode:
            return False
        return True

    def _as_upce(self, text: str) -> Product | None:
        try:
            return self.products.get(parse_code(text, "upce", self.layout).key)
        except CodeError:
            return None


def load_catalog(path: str | Path, layout: VariableMeasureLayout = DEFAULT_LAYOUT) -> Catalog:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such catalog file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog ({exc})") from None
    return parse_catalog(text, source=str(path), layout=layout)


def parse_catalog(text: str, source: str = "<catalog>", layout: VariableMeasureLayout = DEFAULT_LAYOUT) -> Catalog:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CatalogError(f"{source}: header lacks required column(s) {', '.join(missing)}")
    reader.fieldnames = columns
    catalog = Catalog(layout=layout, source=source, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    for row in reader:
        line = reader.line_num
        try:
            product = _product(row, layout)
        except ValueError as exc:
            catalog.errors.append(RowError(line, str(exc)))
            continue
        if product.key in catalog.products:
            first = catalog.products[product.key].code
            catalog.errors.append(RowError(line, f"code {product.code} repeats {first}; first row kept"))
            continue
        catalog.products[product.key] = product
    return catalog


def _product(row: dict[str, str | None], layout: VariableMeasureLayout) -> Product:
    if None in row:
        raise ValueError("more fields than the header has")
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    if not code:
        raise ValueError("empty code")
    if not name:
        raise ValueError(f"code {code}: empty name")
    try:
        key = catalog_key(code, layout)
    except CodeError as exc:
        raise ValueError(f"code {code}: {exc}") from None
    price_text = (row.get("price_cents") or "").strip()
    if not price_text.isdigit():
        raise ValueError(f"code {code}: price_cents must be a whole number of cents, got {price_text!r}")
    sold_by_text = (row.get("sold_by") or "each").strip().lower() or "each"
    try:
        sold_by = SoldBy(sold_by_text)
    except ValueError:
        raise ValueError(f"code {code}: sold_by must be 'each' or 'weight', got {sold_by_text!r}") from None
    weight_g = _optional_grams(row.get("weight_g"), code, "weight_g", positive=True)
    weight_sd_g = _optional_grams(row.get("weight_sd_g"), code, "weight_sd_g", positive=False)
    variable = key != "" and len(key) == 14 and layout.matches(key[1:])
    return Product(code, key, name, int(price_text), sold_by, weight_g, weight_sd_g, variable)


def _optional_grams(text: str | None, code: str, column: str, *, positive: bool) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"code {code}: {column} must be a number of grams, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"code {code}: {column} out of range: {text!r}")
    return value
