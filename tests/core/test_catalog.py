from __future__ import annotations

import time

import pytest

from firmware.core.catalog import CatalogError, SoldBy, UnknownCode, load_catalog, parse_catalog
from firmware.core.gtin import check_digit
from tests.conftest import shared_path

GOOD = """code,name,price_cents,sold_by,weight_g,weight_sd_g,extra
5012345678900,Canned tomatoes,129,each,452,4,ignored
036000291452,Tissues,349,,120,,
4011,Bananas,199,weight,,,
2123456000008,Deli ham (label),0,each,,,
"""


def test_loads_rows_and_finds_every_form_of_a_code() -> None:
    catalog = parse_catalog(GOOD)
    assert not catalog.errors
    assert len(catalog) == 4
    assert catalog.lookup("0036000291452").product.name == "Tissues"
    assert catalog.lookup("036000291452").product.weight_g == 120
    tomatoes = catalog.lookup("5012345678900").product
    assert tomatoes.weight_sd_g == 4 and tomatoes.sold_by is SoldBy.EACH
    assert catalog.lookup("4011").product.by_weight
    assert catalog.lookup("94011").product.name == "Bananas"  # organic falls back to the conventional PLU


def test_variable_measure_label_carries_its_price() -> None:
    catalog = parse_catalog(GOOD)
    body = "212345601234"
    match = catalog.lookup(body + str(check_digit(body)))
    assert match.product.name == "Deli ham (label)"
    assert match.label_price_cents == 1234


def test_bad_rows_are_reported_with_line_numbers_and_the_rest_loads() -> None:
    text = GOOD + "\n".join(
        [
            "5012345678901,Bad check digit,100,each,10,,",
            "96385074,,99,each,21,,",
            "96385074,Gum,1.99,each,21,,",
            "96385074,Gum,199,kilo,21,,",
            "96385074,Gum,199,each,-3,,",
            "96385074,Gum,199,each,21,,",
            "0096385074,Gum again,199,each,21,,",
        ]
    )
    catalog = parse_catalog(text)
    lines = [e.line for e in catalog.errors]
    assert lines == [6, 7, 8, 9, 10, 12]
    assert "check digit" in catalog.errors[0].message
    assert "price_cents" in catalog.errors[2].message
    assert "repeats" in catalog.errors[5].message
    assert catalog.lookup("96385074").product.name == "Gum"


def test_missing_required_column_is_fatal() -> None:
    with pytest.raises(CatalogError, match="price_cents"):
        parse_catalog("code,name\n4011,Bananas\n")


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(CatalogError, match="no such catalog"):
        load_catalog(tmp_path / "nope.csv")


def test_unknown_and_malformed_codes() -> None:
    catalog = parse_catalog(GOOD)
    with pytest.raises(UnknownCode, match="not in the store"):
        catalog.lookup("96385074")
    with pytest.raises(UnknownCode, match="not a valid"):
        catalog.lookup("5012345678901")
    assert not catalog.knows("hello")


def test_real_open_food_facts_catalog_loads_fast(tmp_path) -> None:
    """Tens of thousands of real rows (the OFF slice, repeated with fresh codes) in well under a second."""
    import csv

    source = shared_path("data", "catalog", "off_products_slim.csv")
    rows = list(csv.DictReader(source.open(encoding="utf-8")))
    out = ["code,name,price_cents,sold_by,weight_g"]
    n = 0
    for rep in range(3, 8):  # no 2-prefix: those are in-store variable-measure codes
        for row in rows:
            body = f"{rep}{n:011d}"
            out.append(f'{body}{check_digit(body)},"{row["product_name"].replace(chr(34), "")}",199,each,250')
            n += 1
    path = tmp_path / "big.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    started = time.perf_counter()
    catalog = load_catalog(path)
    elapsed = time.perf_counter() - started
    assert n > 30000
    assert len(catalog) + len(catalog.errors) == n
    assert all("empty name" in e.message for e in catalog.errors)
    assert elapsed < 5.0  # generous for a busy CI machine; the benchmark prints the real figure


def test_real_codes_from_open_food_facts_parse_or_are_reported() -> None:
    import csv

    source = shared_path("data", "catalog", "off_products_slim.csv")
    text = ["code,name,price_cents"]
    for row in csv.DictReader(source.open(encoding="utf-8")):
        text.append(f'{row["code"]},"{row["product_name"].replace(chr(34), "")}",100')
    catalog = parse_catalog("\n".join(text))
    assert len(catalog) > 5000
    assert all(e.line >= 2 for e in catalog.errors)
