"""hardware/: the bill of materials parses with its columns, and the udev rule names the boards the
device profiles use."""

from __future__ import annotations

import csv
import re

from firmware.tech.profiles import REPO, all_profiles

HARDWARE = REPO / "hardware"
COLUMNS = ["item", "qty", "part", "manufacturer", "part_number", "supplier_example", "notes"]


def test_bom_columns_and_quantities() -> None:
    with (HARDWARE / "bom.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    items = [row["item"] for row in rows]
    assert len(items) == len(set(items)), "each BOM item once"
    for row in rows:
        assert row["qty"].isdigit(), row
        assert row["part"] and row["manufacturer"], row
    quantities = {row["item"]: int(row["qty"]) for row in rows}
    assert quantities["load_cell"] == 4 and quantities["adc"] == 1 and quantities["scale_mcu"] == 1


def test_udev_rule_covers_the_profiles_boards() -> None:
    text = (HARDWARE / "udev" / "99-smartcart-scale.rules").read_text()
    rules = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    ids = {tuple(re.findall(r'ATTRS\{id(?:Vendor|Product)\}=="([0-9a-f]{4})"', rule)) for rule in rules}
    chips = {p.mcu.chip for p in all_profiles()}
    assert "rp2040" in chips and ("2e8a", "0005") in ids  # MicroPython on the Pico
    assert "esp32" in chips and {("10c4", "ea60"), ("1a86", "7523")} <= ids  # DevKitC USB bridges
    for rule in rules:
        assert 'SYMLINK+="smartcart-scale"' in rule and 'SUBSYSTEM=="tty"' in rule
