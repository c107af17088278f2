"""The scenario catalog: the store's catalog (cart-trace v1 CSV) plus what the rig alone knows.

Scenarios name products by a short `alias` (`gum`, `bananas`) or by code. Beside the spec's
columns the file may carry `alias`, `true_weight_g` and `true_sd_g`: what a unit really weighs
and how much units scatter, when that differs from the store's (sometimes wrong) `weight_g`.
The cart never sees those columns: the compiled trace gets a catalog with the spec's columns only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from firmware.core.gtin import CodeError, catalog_key

SPEC_COLUMNS = ("code", "name", "price_cents", "sold_by", "weight_g", "weight_sd_g")


class ScenarioCatalogError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name: str
    price_cents: int
    by_weight: bool
    alias: str = ""
    true_weight_g: float | None = None  # mean of a unit as it really is (None: produce, set per pick)
    true_sd_g: float = 0.0
    row: dict[str, str] | None = None


class ScenarioCatalog:
    def __init__(self, path: Path, items: list[Item]) -> None:
        self.path = path
        self.items = items
        self._by: dict[str, Item] = {}
        for item in items:
            for name in (item.alias, item.code, code_key(item.code)):
                if name:
                    self._by.setdefault(name, item)

    def find(self, ref: str) -> Item | None:
        return self._by.get(ref) or self._by.get(code_key(ref))

    def write_spec_csv(self, out: Path) -> None:
        """The catalog as the cart gets it: spec columns only."""
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(SPEC_COLUMNS)
            for item in self.items:
                row = item.row or {}
                writer.writerow([row.get(col, "") for col in SPEC_COLUMNS])


def code_key(code: str) -> str:
    """The catalog key of a code (GTIN-14 or PLU): a UPC-A and its EAN-13 meet."""
    try:
        return catalog_key(code)
    except CodeError:
        return code


def _float(row: dict[str, str], key: str, where: str) -> float | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ScenarioCatalogError(f"{where}: '{key}' is not a number: {text!r}") from None


_CACHE: dict[Path, ScenarioCatalog] = {}


def load_scenario_catalog(path: Path) -> ScenarioCatalog:
    key = path.resolve()
    if key in _CACHE:
        return _CACHE[key]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioCatalogError(f"{path}: cannot read the catalog: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    missing = {"code", "name", "price_cents"} - set(reader.fieldnames or [])
    if missing:
        raise ScenarioCatalogError(f"{path}: catalog lacks column(s) {sorted(missing)}")
    items: list[Item] = []
    for line, row in enumerate(reader, start=2):
        where = f"{path}:{line}"
        try:
            price = int(row["price_cents"])
        except (TypeError, ValueError):
            raise ScenarioCatalogError(f"{where}: price_cents must be whole cents") from None
        by_weight = (row.get("sold_by") or "each").strip() == "weight"
        weight = _float(row, "weight_g", where)
        true_weight = _float(row, "true_weight_g", where) or weight
        sd = _float(row, "true_sd_g", where)
        if sd is None:
            sd = _float(row, "weight_sd_g", where)
        if sd is None and true_weight is not None:
            sd = 0.004 * true_weight + 0.2  # a tight filler: 0.4 % and a fraction of a gram
        spec_row = {col: (row.get(col) or "").strip() for col in SPEC_COLUMNS}
        items.append(
            Item(
                row["code"].strip(),
                row["name"].strip(),
                price,
                by_weight,
                (row.get("alias") or "").strip(),
                None if by_weight else true_weight,
                sd or 0.0,
                spec_row,
            )
        )
    catalog = ScenarioCatalog(path, items)
    _CACHE[key] = catalog
    return catalog
