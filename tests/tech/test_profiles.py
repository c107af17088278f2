"""Device profiles in hardware/profiles/ are valid (CI), match the firmware's board pin file, and
bad profiles are refused with the key named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from firmware.tech.profiles import (
    BOARD_FILE,
    PROFILE_DIR,
    ProfileError,
    all_profiles,
    load_profile,
    parse_profile,
    render_board_file,
)


def test_every_profile_in_the_repo_loads() -> None:
    profiles = all_profiles()
    assert len(profiles) >= 3
    assert {p.mcu.chip for p in profiles} == {"rp2040", "esp32"}
    for profile in profiles:
        assert profile.expected_counts_per_gram > 0
        assert "BOARD = " in render_board_file(profile)


def test_pico_profile_is_the_firmware_board_file() -> None:
    """The firmware's board.py is what the standard profile renders: pins documented = pins flashed."""
    assert render_board_file(load_profile("basket-4x50kg-pico")) == BOARD_FILE.read_text()


def test_rendered_board_files_are_python_with_the_profile_pins() -> None:
    for profile in all_profiles():
        source = render_board_file(profile)
        namespace: dict = {}
        exec(compile(source, profile.name, "exec"), namespace)  # defines constants and build() only
        assert namespace["DATA_PIN"] == profile.mcu.data_pin
        assert namespace["CLOCK_PIN"] == profile.mcu.clock_pin
        assert namespace["BOARD"] == profile.mcu.board
        assert (namespace["UART_ID"] is None) == (profile.mcu.link == "usb")


def test_expected_sensitivity_of_the_standard_basket() -> None:
    # 1 mV/V at 200 kg, gain 128: 1e-3 / 200000 g / (0.5 / 128) * 2**23 = 10.74 counts/g
    assert load_profile("basket-4x50kg-pico").expected_counts_per_gram == pytest.approx(10.737, abs=0.01)


def _data(name: str) -> dict:
    return tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text())


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("mcu", "colour", "red", "unknown key 'colour'"),
        ("mcu", "data_pin", 9, "GPIO 6-11"),
        ("mcu", "clock_pin", 34, "input-only"),
        ("mcu", "data_pin", 12, "strapping"),
        ("mcu", "data_pin", 33, "both GPIO 33"),
        ("mcu", "use_pio", True, "use_pio needs an RP2040"),
        ("scale", "division_g", 3.0, "1, 2 or 5"),
        ("scale", "capacity_g", 300000.0, "exceeds"),
        ("scale", "sps", 40, "10 or 80"),
        ("scale", "cells", "4", "must be int"),
    ],
)
def test_bad_esp32_profiles_are_refused(section: str, key: str, value: object, message: str) -> None:
    data = _data("basket-4x50kg-esp32")
    data[section][key] = value
    with pytest.raises(ProfileError, match=message):
        parse_profile(data, PROFILE_DIR / "basket-4x50kg-esp32.toml")


def test_rp2040_pin_range_and_unknown_section() -> None:
    data = _data("basket-4x50kg-pico")
    data["mcu"]["rate_pin"] = 25
    with pytest.raises(ProfileError, match="Pico header"):
        parse_profile(data, PROFILE_DIR / "basket-4x50kg-pico.toml")
    data = _data("basket-4x50kg-pico")
    data["display"] = {}
    with pytest.raises(ProfileError, match=r"unknown section \[display\]"):
        parse_profile(data, PROFILE_DIR / "basket-4x50kg-pico.toml")


def test_missing_profile_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="basket-4x50kg-pico"):
        load_profile("no-such-cart")
    bad = tmp_path / "x.toml"
    bad.write_text("[profile\n")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(bad)
