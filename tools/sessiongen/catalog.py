"""The simulated store: real products (Open Food Facts slice, IFPS PLU list) with physical truth.

Each product has a *true* unit weight (mean and unit-to-unit spread, from `products`) and a
*catalog* weight: what the store's data says, which deviates from the truth as real master data
does (most within about 1 %, a few about 5 % off, a few missing). Twin ranges (flavours of one
product at near-identical weights but different prices), heavy multipacks (water, soft drinks,
beer: 6-9 kg) and produce (by weight, or per piece) are part of the store. The catalog CSV of the
trace spec is written from it; the truth stays in memory (or goes to a separate file).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tools.sessiongen.codes import printed_code, store_upca, upce_of
from tools.sessiongen.produce import ORGANIC_PRICE_FACTOR, ProduceKind, piece_stats, produce_kind
from tools.sessiongen.products import (
    CLASS_BY_NAME,
    charm_price,
    classify,
    pack_price_cents,
    pack_truth,
    plausible_amount,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OFF_CSV = REPO_ROOT / ".." / "shared" / "data" / "catalog" / "off_products_slim.csv"
DEFAULT_PLU_JSON = REPO_ROOT / ".." / "shared" / "data" / "plu" / "plu_codes.json"

# How store master data deviates from the truth (see WORLD.md).
CATALOG_OK_SD = 0.005  # relative sd of an ordinary catalog weight (95 % within 1 %)
CATALOG_OFF_P = 0.04  # share of rows about 5 % off
CATALOG_MISSING_P = 0.04  # share of each-priced rows without a weight
CATALOG_SD_P = 0.25  # share of packaged rows that list weight_sd_g
MULTIPACKS = ((6, 1500), (6, 1000), (12, 500), (24, 330), (6, 1500))  # (units, ml each)


@dataclass(frozen=True, slots=True)
class Product:
    """One catalog row with the physical truth behind it."""

    code: str  # as printed: EAN-13, UPC-A, EAN-8 or PLU
    name: str
    price_cents: int  # per unit, or per kg when sold by weight
    sold_by: str  # "each" | "weight"
    group: str  # "packaged" | "multipack" | "produce"
    cls: str  # product class or produce pattern
    true_mean_g: float  # one unit (one piece for produce)
    true_sd_g: float
    catalog_weight_g: float | None
    catalog_sd_g: float | None
    catalog_error: str  # "ok" | "off" | "missing" | "none" (sold by weight: no weight listed)
    twin_group: int | None = None
    upce: str | None = None  # printed UPC-E form, when the pack carries one
    produce: ProduceKind | None = None


@dataclass(slots=True)
class Store:
    """All products, with indexes the shopper model draws from."""

    products: list[Product]
    by_code: dict[str, Product]
    light: list[int]  # packaged, true weight <= 40 g
    heavy: list[int]  # >= 4 kg
    produce: list[int]
    regular: list[int]  # packaged each-priced, neither light nor heavy
    twin_groups: list[list[int]]

    @classmethod
    def from_products(cls, products: list[Product]) -> Store:
        light, heavy, produce, regular = [], [], [], []
        twins: dict[int, list[int]] = defaultdict(list)
        for i, p in enumerate(products):
            if p.group == "produce":
                produce.append(i)
            elif p.true_mean_g >= 4000:
                heavy.append(i)
            elif p.true_mean_g <= 40:
                light.append(i)
            else:
                regular.append(i)
            if p.twin_group is not None:
                twins[p.twin_group].append(i)
        groups = [g for _, g in sorted(twins.items()) if len(g) >= 2]
        return cls(products, {p.code: p for p in products}, light, heavy, produce, regular, groups)


def build_store(
    rng: np.random.Generator | int,
    off_csv: Path | str = DEFAULT_OFF_CSV,
    plu_json: Path | str = DEFAULT_PLU_JSON,
    produce_per_kind: int = 3,
) -> Store:
    """Build the store from the OFF slice and the PLU list; deterministic for a seed."""
    rng = np.random.default_rng(rng)
    off_csv, plu_json = Path(off_csv), Path(plu_json)
    for path in (off_csv, plu_json):
        if not path.is_file():
            raise FileNotFoundError(f"store data not found: {path} (the shared data folder is ../shared/data)")
    packaged = _packaged_products(off_csv, rng)
    packaged += _multipacks(packaged, rng)
    produce = _produce(plu_json, rng, produce_per_kind)
    return Store.from_products(packaged + produce)


def _clean_name(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip()[:80]


def _packaged_products(off_csv: Path, rng: np.random.Generator) -> list[Product]:
    with off_csv.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    seen: set[str] = set()
    picked = []
    for row in rows:
        code = printed_code(row.get("code", ""))
        name = _clean_name(row.get("product_name", ""))
        if code is None or not name or code.zfill(14) in seen:
            continue
        seen.add(code.zfill(14))
        picked.append((code, name, row))
    # Twin ranges: same brand, same plausible declared amount, same class (flavours of one range).
    ranges: dict[tuple, list[int]] = defaultdict(list)
    for i, (_, name, row) in enumerate(picked):
        brand = row.get("brands", "").split(",")[0].strip().lower()
        cls = classify(name, row.get("categories_tags", ""))
        if brand and plausible_amount(cls, _amount(row), row.get("net_unit", "")):
            ranges[(brand, row["net_amount"], row.get("net_unit"), cls.name)].append(i)
    twin_of = {}
    for gid, members in enumerate(m for m in ranges.values() if len(m) >= 2):
        for i in members:
            twin_of[i] = gid
    shared: dict[int, tuple[str, float, float, float, int]] = {}
    products = []
    for i, (code, name, row) in enumerate(picked):
        cls = classify(name, row.get("categories_tags", ""))
        amount, unit = _amount(row), row.get("net_unit", "")
        gid = twin_of.get(i)
        if gid is not None and gid in shared:
            pkg, factor, overfill, density, base_price = shared[gid]
            truth = pack_truth(cls, amount, unit, rng, pkg, factor, overfill, density)
            # Flavours of a range differ in price: premium, organic, promotional lines.
            price = charm_price(base_price * rng.uniform(0.75, 1.4))
        else:
            factor, overfill = float(rng.uniform(0.8, 1.25)), float(rng.uniform(0.0, 0.015))
            truth = pack_truth(cls, amount, unit, rng, None, factor, overfill)
            price = pack_price_cents(cls, truth.net_g, rng)
            if gid is not None:
                density = truth.net_g / truth.net_declared
                shared[gid] = (truth.packaging, factor, overfill, density, price)
        upce = upce_of(code) if len(code) == 12 and truth.mean_g < 150 and rng.random() < 0.5 else None
        product = Product(code, name, price, "each", "packaged", cls.name, truth.mean_g, truth.sd_g, None, None, "ok")
        products.append(_with_catalog_weight(replace(product, twin_group=gid, upce=upce), rng, CATALOG_SD_P))
    return _distinct_twin_prices(products)


def _amount(row: dict) -> float | None:
    try:
        return float(row["net_amount"]) if row.get("net_amount") else None
    except ValueError:
        return None


def _distinct_twin_prices(products: list[Product]) -> list[Product]:
    """Twins exist to be told apart by price: make prices within a range distinct."""
    used: dict[int, set[int]] = defaultdict(set)
    out = []
    for p in products:
        if p.twin_group is None:
            out.append(p)
            continue
        price = p.price_cents
        while price in used[p.twin_group]:
            price = charm_price(price + 10 + price * 0.05)
        used[p.twin_group].add(price)
        out.append(replace(p, price_cents=price))
    return out


def _with_catalog_weight(p: Product, rng: np.random.Generator, sd_p: float) -> Product:
    """Give a product the weight its catalog row shows (or none), per the master-data error model."""
    u = rng.random()
    if u < CATALOG_MISSING_P:
        return replace(p, catalog_weight_g=None, catalog_sd_g=None, catalog_error="missing")
    if u < CATALOG_MISSING_P + CATALOG_OFF_P:
        rel, kind = rng.choice((-1.0, 1.0)) * rng.uniform(0.04, 0.06), "off"
    else:
        rel, kind = float(np.clip(rng.normal(0.0, CATALOG_OK_SD), -0.015, 0.015)), "ok"
    weight = p.true_mean_g * (1.0 + rel)
    weight = round(weight, 1) if weight < 100 else float(round(weight))
    sd = None
    if rng.random() < sd_p:
        sd = max(0.1, round(p.true_sd_g * rng.uniform(0.7, 1.5), 1))
    return replace(p, catalog_weight_g=weight, catalog_sd_g=sd, catalog_error=kind)


def _multipacks(products: list[Product], rng: np.random.Generator) -> list[Product]:
    """Shrink-wrapped drink packs (6-9 kg) under store-assigned codes, from real single bottles."""
    drinks = [p for p in products if p.cls in ("water", "soda", "beer", "milk", "juice")]
    out: list[Product] = []
    if not drinks:
        return out
    taken = {p.code.zfill(14) for p in products}
    number = 1000
    for units, ml in MULTIPACKS * 3:
        base = drinks[int(rng.integers(len(drinks)))]
        cls = CLASS_BY_NAME[base.cls]
        one = pack_truth(cls, float(ml), "ml", rng, "alu_can" if ml == 330 else "pet_bottle")
        wrap = units * rng.uniform(4.0, 7.0) if ml != 330 else rng.uniform(90.0, 140.0)  # film / board tray
        mean = units * one.mean_g + wrap
        sd = float(np.sqrt(units) * one.sd_g + 0.05 * wrap)
        while (code := store_upca(number)).zfill(14) in taken:
            number += 1
        number += 1
        taken.add(code.zfill(14))
        size = f"{ml / 1000:g} l" if ml >= 1000 else f"{ml} ml"
        price = charm_price(units * pack_price_cents(cls, one.net_g, rng) * rng.uniform(0.85, 0.95))
        out.append(
            _with_catalog_weight(
                Product(
                    code,
                    f"{base.name[:50]} {units} x {size}",
                    price,
                    "each",
                    "multipack",
                    cls.name,
                    mean,
                    sd,
                    None,
                    None,
                    "ok",
                ),
                rng,
                0.5,
            )
        )
    return out


def _produce(plu_json: Path, rng: np.random.Generator, per_kind: int) -> list[Product]:
    with plu_json.open(encoding="utf-8") as f:
        plus: dict[str, str] = json.load(f)
    by_kind: dict[str, list[tuple[str, str, ProduceKind]]] = defaultdict(list)
    for plu, name in sorted(plus.items()):
        kind = produce_kind(name)
        if kind is not None and "retailer assigned" not in name.lower():
            by_kind[kind.pattern].append((plu, _clean_name(name), kind))
    chosen = []
    for items in by_kind.values():
        idx = rng.permutation(len(items))[:per_kind]
        chosen += [items[i] for i in sorted(idx)]
    if "4011" in plus and all(c[0] != "4011" for c in chosen):
        chosen.append(("4011", plus["4011"], produce_kind(plus["4011"])))  # type: ignore[arg-type]
    out = []
    for plu, name, kind in chosen:
        variants = [(plu, name, 1.0)]
        if rng.random() < 0.15:
            variants.append(("9" + plu, f"Organic {name}", ORGANIC_PRICE_FACTOR))
        for code, label, factor in variants:
            price = charm_price(kind.price_cents * factor * rng.lognormal(0.0, 0.12))
            mean, sd = piece_stats(kind)
            p = Product(
                code, label, price, kind.sold_by, "produce", kind.pattern, mean, sd, None, None, "none", produce=kind
            )
            if kind.sold_by == "each":  # a piece price: the store lists a typical weight and its spread
                p = _with_catalog_weight(p, rng, 1.0)
            out.append(p)
    return out


def catalog_csv(store: Store) -> str:
    """The trace spec's catalog CSV (code, name, price_cents, sold_by, weight_g, weight_sd_g)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")  # as a file of it reads back (universal newlines): one sha256
    w.writerow(["code", "name", "price_cents", "sold_by", "weight_g", "weight_sd_g"])
    for p in store.products:
        w.writerow([p.code, p.name, p.price_cents, p.sold_by, _num(p.catalog_weight_g), _num(p.catalog_sd_g)])
    return out.getvalue()


def write_catalog(store: Store, path: Path | str) -> None:
    Path(path).write_text(catalog_csv(store), encoding="utf-8", newline="")


def write_store_truth(store: Store, path: Path | str) -> None:
    """The physical truth behind each catalog row, for graders (never part of a trace)."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "code",
                "group",
                "class",
                "true_mean_g",
                "true_sd_g",
                "catalog_weight_g",
                "catalog_error",
                "twin_group",
                "printed_upce",
            ]
        )
        for p in store.products:
            w.writerow(
                [
                    p.code,
                    p.group,
                    p.cls,
                    f"{p.true_mean_g:.2f}",
                    f"{p.true_sd_g:.2f}",
                    _num(p.catalog_weight_g),
                    p.catalog_error,
                    "" if p.twin_group is None else p.twin_group,
                    p.upce or "",
                ]
            )


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"
