"""The simulated store: codes as printed, real products with plausible physical truth, a catalog that
deviates from the truth like real master data, twins, light and heavy goods, produce."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from firmware.core.gtin import check_digit, expand_upce, gtin14, is_plu
from tools.sessiongen import write_catalog
from tools.sessiongen.codes import printed_code, store_upca, upce_of


def _with_check(body: str) -> str:
    return body + str(check_digit(body))


def test_printed_code_normalises_padding_and_rejects_what_a_store_cannot_sell() -> None:
    ean13 = _with_check("400638133393")
    assert printed_code(ean13) == ean13
    assert printed_code("0000000" + ean13) == ean13  # padded export
    upca = _with_check("03600029145")
    assert printed_code("0" + upca) == upca  # EAN-13 with a leading 0 is printed as UPC-A
    ean8 = _with_check("9638507")
    assert printed_code("00000" + ean8) == ean8
    assert printed_code(ean13[:-1] + str((int(ean13[-1]) + 1) % 10)) is None  # check digit
    assert printed_code(_with_check("1" + "4006381333931"[:12])) is None  # GTIN-14 case code
    assert printed_code(_with_check("200123400000")) is None  # variable-measure range
    assert printed_code("12a45") is None and printed_code("0000") is None


def test_upce_compression_round_trips() -> None:
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(3000):
        body = "0" + "".join(str(d) for d in rng.integers(0, 10, 5)) + "0000" + str(rng.integers(0, 10))
        if rng.random() < 0.5:
            body = body[:3] + "00" + body[5:]
        upca = _with_check(body)
        upce = upce_of(upca)
        if upce is not None:
            found += 1
            assert len(upce) == 8 and expand_upce(upce) == upca
    assert found > 300
    assert upce_of(_with_check("03600029145")) is None


def test_store_codes_are_valid_and_unique(store) -> None:
    keys = []
    for p in store.products:
        if p.group == "produce":
            assert is_plu(p.code)
            keys.append(p.code)
        else:
            assert len(p.code) in (8, 12, 13)
            keys.append(gtin14(p.code))
        assert p.name and p.price_cents > 0
    assert len(keys) == len(set(keys))
    assert store_upca(1000) in store.by_code or all(p.group != "multipack" for p in store.products)
    assert gtin14(store_upca(123)).startswith("004")


def test_catalog_weights_deviate_like_real_master_data(store) -> None:
    packaged = [p for p in store.products if p.group != "produce"]
    errors = Counter(p.catalog_error for p in packaged)
    n = len(packaged)
    assert 0.02 < errors["missing"] / n < 0.07
    assert 0.02 < errors["off"] / n < 0.07
    for p in packaged:
        if p.catalog_error == "ok":
            assert abs(p.catalog_weight_g - p.true_mean_g) <= 0.015 * p.true_mean_g + 0.5  # +rounding
        elif p.catalog_error == "off":
            assert 0.04 * p.true_mean_g - 0.5 <= abs(p.catalog_weight_g - p.true_mean_g) <= 0.06 * p.true_mean_g + 0.5
        else:
            assert p.catalog_weight_g is None
    with_sd = sum(p.catalog_sd_g is not None for p in packaged) / n
    assert 0.15 < with_sd < 0.4


def test_true_weights_are_physical(store) -> None:
    packaged = [p for p in store.products if p.group != "produce"]
    weights = np.array([p.true_mean_g for p in packaged])
    assert weights.min() >= 8 and weights.max() < 12_000
    assert len(store.light) > 50 and all(store.products[i].true_mean_g <= 40 for i in store.light)
    heavy = [store.products[i] for i in store.heavy]
    assert sum(6000 <= p.true_mean_g <= 10_000 for p in heavy) >= 5
    for p in packaged:
        assert 0 < p.true_sd_g < 0.06 * p.true_mean_g


def test_twins_weigh_alike_and_cost_differently(store) -> None:
    assert len(store.twin_groups) > 50
    for group in store.twin_groups:
        members = [store.products[i] for i in group]
        means = [p.true_mean_g for p in members]
        assert max(means) / min(means) < 1.01
        prices = [p.price_cents for p in members]
        assert len(set(prices)) == len(prices)


def test_produce_rows(store) -> None:
    produce = [store.products[i] for i in store.produce]
    by_weight = [p for p in produce if p.sold_by == "weight"]
    each = [p for p in produce if p.sold_by == "each"]
    assert len(by_weight) > len(each) > 20  # most produce is sold by weight
    assert all(p.catalog_weight_g is None for p in by_weight)
    assert all(p.catalog_sd_g is not None for p in each if p.catalog_weight_g is not None)
    assert "4011" in store.by_code


def test_catalog_csv(store, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    write_catalog(store, path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["code", "name", "price_cents", "sold_by", "weight_g", "weight_sd_g"]
    assert len(rows) == len(store.products)
    for row in rows:
        assert row["sold_by"] in ("each", "weight") and int(row["price_cents"]) > 0
        if row["weight_g"]:
            assert float(row["weight_g"]) > 0
        if row["sold_by"] == "weight":
            assert row["weight_g"] == ""
