from __future__ import annotations

from pathlib import Path

import pytest

from firmware.daemon.config import ConfigError, load_config, parse_config

GOOD = """
[cart]
id = "cart-007"
currency = "GBP"

[store]
url = "https://store.example/api"
catalog = "/var/lib/smartcart/catalog.csv"

[scale]
port = "/dev/smartcart-scale"

[camera]
source = "0"
fps = 15
"""


def test_good_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "cartd.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.cart.id == "cart-007" and config.cart.currency == "GBP"
    assert config.camera.fps == 15 and config.camera.width == 1280
    assert config.verifier.name == "rule"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"carts": {}}, "unknown section [carts]"),
        ({"cart": {"idd": "x"}}, "unknown key 'idd'"),
        ({"cart": {"currency": "euro"}}, "ISO 4217"),
        ({"camera": {"fps": "fast"}}, "'fps' must be int"),
        ({"camera": {"fps": 0}}, "fps must be positive"),
        ({"verifier": {"name": "oracle"}}, "[verifier] name"),
        ({"daemon": {"listen": "8765"}}, "HOST:PORT"),
        ({"daemon": {"keep_samples_sessions": 0}}, "keep_samples_sessions <= keep_sessions"),
        ({"daemon": {"keep_samples_sessions": 50, "keep_sessions": 10}}, "keep_samples_sessions <= keep_sessions"),
        ({"cart": "cart-1"}, "must be a table"),
        ({"cart": {"id": "cart 1"}}, "letters, digits"),
    ],
)
def test_bad_configs_are_refused_naming_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "cartd.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("cartd.toml")


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[cart\nid=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such config"):
        load_config(tmp_path / "none.toml")


def test_shipped_example_config_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "firmware" / "daemon" / "cartd.example.toml"
    assert load_config(example).cart.id
