"""The ground truth is the bill of what is really in the cart, and incidents differ from honest trips
exactly as specified."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from firmware.core.gtin import expand_upce, gtin14, is_plu
from tools.sessiongen import INCIDENT_KINDS, generate_session, half_up_cents, write_catalog
from tools.sessiongen.trip import SWAP_MIN_G, SWAP_MIN_REL


def _key(text: str) -> str:
    return text if is_plu(text) else gtin14(text)


def _key_scan(line: dict) -> str:
    if line.get("symbology") == "upce":
        return gtin14(expand_upce(line["text"]))
    return _key(line["text"])


def test_half_up() -> None:
    assert half_up_cents(612.0, 199) == 122  # 121.788
    assert half_up_cents(250.0, 1) == 0  # 0.25 -> 0
    assert half_up_cents(500.0, 1) == 1  # 0.5 -> 1 (half up)
    assert half_up_cents(1500.0, 3) == 5  # 4.5 -> 5


def test_bill_matches_the_catalog_prices(store, tmp_path: Path) -> None:
    write_catalog(store, tmp_path / "catalog.csv")
    with (tmp_path / "catalog.csv").open(newline="") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    for i in range(12):
        truth = generate_session(store, [21, i], "b", INCIDENT_KINDS[i % 4] if i % 3 else "honest").truth
        assert truth["items"], "a trip buys something"
        for line in truth["items"]:
            row = rows[line["code"]]
            price = int(row["price_cents"])
            if row["sold_by"] == "weight":
                assert line["qty"] == 1 and line["weight_g"] > 0
                assert line["amount_cents"] == half_up_cents(line["weight_g"], price)
            else:
                assert line["weight_g"] is None
                assert line["amount_cents"] == line["qty"] * price
        assert truth["total_cents"] == sum(line["amount_cents"] for line in truth["items"])


def _ledger(store, session) -> tuple[Counter, Counter, Counter]:
    """(scans or PLU keys per product, units put in per product, units still in per product)."""
    scans: Counter = Counter()
    for line in session.lines:
        if line["type"] == "code":
            scans[_key_scan(line)] += 1
        elif line["type"] == "input" and line["action"] == "plu":
            scans[line["plu"]] += 1
    placed, kept = Counter(), Counter()
    for unit in session.truth["units"]:
        placed[_key(unit["code"])] += 1
        if unit["t_out"] is None:
            kept[_key(unit["code"])] += 1
    return scans, placed, kept


def test_honest_trips_scan_every_unit_once(store) -> None:
    for i in range(15):
        session = generate_session(store, [31, i], "h", "honest")
        scans, placed, kept = _ledger(store, session)
        assert scans == placed
        billed = Counter()
        for line in session.truth["items"]:
            billed[_key(line["code"])] += line["qty"]
        assert billed == kept
        removed = sum(placed.values()) - sum(kept.values())
        assert removed == len(session.truth["removals"])


@pytest.mark.parametrize("kind", INCIDENT_KINDS)
def test_each_incident_breaks_the_ledger_once(store, kind: str) -> None:
    for i in range(6):
        session = generate_session(store, [41, i], "i", kind)
        truth = session.truth
        inc = truth["incident"]
        assert truth["kind"] == kind and inc["kind"] == kind
        scans, placed, _ = _ledger(store, session)
        diff = {k: placed[k] - scans[k] for k in set(scans) | set(placed) if placed[k] != scans[k]}
        if kind == "unscanned_item":
            assert diff == {_key(inc["code"]): 1}
        elif kind == "swap":
            assert diff == {_key(inc["placed_code"]): 1, _key(inc["scanned_code"]): -1}
            a, b = inc["scanned_weight_g"], inc["placed_weight_g"]
            assert abs(a - b) >= max(SWAP_MIN_REL * a, SWAP_MIN_G) * 0.9  # true unit vs mean
        else:
            assert diff == {_key(inc["code"]): -1}
        if kind in ("unscanned_item", "swap"):  # the moment the item went in
            code = inc.get("placed_code", inc.get("code"))
            assert any(u["code"] == code and 0 <= u["t_in"] - inc["t"] < 2.0 for u in truth["units"])
        else:  # the moment of the (second) scan
            times = [line["t"] for line in session.lines if line["type"] == "code"]
            assert any(abs(t - inc["t"]) < 1e-3 for t in times)
        assert 0 < inc["t"] < truth["duration_s"]


def test_honest_trips_include_the_hard_cases(store) -> None:
    seen = Counter()
    for i in range(40):
        session = generate_session(store, [51, i], "m", "honest")
        kinds = {p.group for p in (store.by_code[u["code"]] for u in session.truth["units"])}
        seen.update(kinds)
        seen["removal"] += bool(session.truth["removals"])
        seen["light"] += any(u["weight_g"] <= 40 for u in session.truth["units"])
        seen["heavy"] += any(u["weight_g"] >= 4000 for u in session.truth["units"])
        seen["twins"] += any(store.by_code[u["code"]].twin_group is not None for u in session.truth["units"])
        seen["after_remove"] += any(r["announced"] == "after" for r in session.truth["removals"])
    for what in ("produce", "removal", "light", "heavy", "twins", "after_remove"):
        assert seen[what] > 0, what
