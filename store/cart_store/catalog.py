"""The store's catalog, versioned for carts: each import that changes rows makes a new version.

A cart asks for what changed since the version it holds (`GET /v1/catalog?since=V`) and gets the
changed rows and the removed codes; since=0, or a version this store never issued (its database
was rebuilt), gets the whole catalog with `full: true`. Imports read the cart-trace v1 catalog CSV.
"""

from __future__ import annotations

import csv
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from cart_store.db import CatalogItem, CatalogVersion
from cart_store.schemas import CatalogDelta, CatalogRow

REQUIRED = ("code", "name", "price_cents")


class CatalogImportError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Row:
    code: str
    name: str
    price_cents: int
    sold_by: str
    weight_g: float | None
    weight_sd_g: float | None


def parse_csv(text: str, source: str = "catalog") -> list[Row]:
    """Every row or a CatalogImportError naming the line: a partial store catalog is not imported."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise CatalogImportError(f"{source}: missing column(s) {', '.join(missing)}")
    rows: dict[str, Row] = {}
    for line, raw in enumerate(reader, start=2):
        try:
            row = _row(raw)
        except ValueError as exc:
            raise CatalogImportError(f"{source}:{line}: {exc}") from None
        if row.code in rows:
            raise CatalogImportError(f"{source}:{line}: code {row.code} appears twice")
        rows[row.code] = row
    return list(rows.values())


def _row(raw: dict[str, str | None]) -> Row:
    code = (raw.get("code") or "").strip()
    if not code.isdigit() or not 4 <= len(code) <= 14:
        raise ValueError(f"code {code!r} is not 4 to 14 digits")
    name = (raw.get("name") or "").strip()
    if not name:
        raise ValueError("empty name")
    price = (raw.get("price_cents") or "").strip()
    if not price.isdigit():
        raise ValueError(f"price_cents {price!r} is not a whole number of cents")
    sold_by = (raw.get("sold_by") or "each").strip() or "each"
    if sold_by not in ("each", "weight"):
        raise ValueError(f"sold_by {sold_by!r} is not 'each' or 'weight'")
    weight = _grams(raw.get("weight_g"), "weight_g")
    spread = _grams(raw.get("weight_sd_g"), "weight_sd_g")
    if sold_by == "each" and weight is None:
        raise ValueError("weight_g is required for products sold each")
    return Row(code, name, int(price), sold_by, weight, spread)


def _grams(text: str | None, column: str) -> float | None:
    text = (text or "").strip()
    if not text:
        return None
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{column} {text!r} is not a positive number of grams")
    return value


def current_version(db: DbSession) -> int:
    return db.scalar(select(func.max(CatalogVersion.version))) or 0


def import_rows(db: DbSession, rows: list[Row], note: str = "", now: float | None = None) -> int:
    """Make the catalog equal to `rows`; returns the new version (the old one when nothing changed)."""
    existing = {item.code: item for item in db.scalars(select(CatalogItem))}
    changed: list[tuple[CatalogItem | None, Row | None, str]] = []
    for row in rows:
        item = existing.get(row.code)
        if item is None or item.deleted or _differs(item, row):
            changed.append((item, row, row.code))
    wanted = {row.code for row in rows}
    changed += [(item, None, code) for code, item in existing.items() if code not in wanted and not item.deleted]
    if not changed:
        return current_version(db)
    version = CatalogVersion(created_unix=time.time() if now is None else now, note=note[:200])
    db.add(version)
    db.flush()
    for item, row, code in changed:
        if row is None:
            assert item is not None
            item.deleted, item.version = True, version.version
            continue
        if item is None:
            item = CatalogItem(code=code)
            db.add(item)
        item.name, item.price_cents, item.sold_by = row.name, row.price_cents, row.sold_by
        item.weight_g, item.weight_sd_g = row.weight_g, row.weight_sd_g
        item.deleted, item.version = False, version.version
    db.commit()
    return version.version


def import_file(db: DbSession, path: str | Path) -> int:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CatalogImportError(f"cannot read {path}: {exc}") from None
    return import_rows(db, parse_csv(text, str(path)), note=path.name)


def _differs(item: CatalogItem, row: Row) -> bool:
    return (item.name, item.price_cents, item.sold_by, item.weight_g, item.weight_sd_g) != (
        row.name,
        row.price_cents,
        row.sold_by,
        row.weight_g,
        row.weight_sd_g,
    )


def delta(db: DbSession, since: int) -> CatalogDelta:
    version = current_version(db)
    full = since <= 0 or since > version
    query = select(CatalogItem).order_by(CatalogItem.code)
    if not full:
        query = query.where(CatalogItem.version > since)
    items, removed = [], []
    for item in db.scalars(query):
        if item.deleted:
            if not full:
                removed.append(item.code)
            continue
        items.append(
            CatalogRow(
                code=item.code,
                name=item.name,
                price_cents=item.price_cents,
                sold_by=item.sold_by,  # type: ignore[arg-type]
                weight_g=item.weight_g,
                weight_sd_g=item.weight_sd_g,
            )
        )
    return CatalogDelta(version=version, since=max(since, 0), items=items, removed=removed, full=full)


def lookup(db: DbSession, code: str) -> CatalogItem | None:
    item = db.get(CatalogItem, code)
    return None if item is None or item.deleted else item
