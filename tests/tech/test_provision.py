"""`cartctl provision`: id and URL into cartd's config, the credential into a 0600 file, the secret
never printed, and the daemon's own loaders accept what was written."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from firmware.daemon.config import load_config
from firmware.sync.credentials import load_credential
from firmware.tech import tomlout
from firmware.tech.diag import secret_forms


def _provision(tmp_path: Path, *extra: str, cart: str = "cart-007") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable, "-m", "firmware.cli.cartctl", "provision", "--cart-id", cart,
            "--store-url", "https://store.example/api/", "--config", str(tmp_path / "etc/cartd.toml"),
            "--secrets", str(tmp_path / "etc/credential.json"), *extra,
        ],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_provision_writes_config_and_a_private_credential(tmp_path: Path) -> None:
    config_path = tmp_path / "etc/cartd.toml"
    config_path.parent.mkdir()
    config_path.write_text('[cart]\nid = "old"\ncurrency = "CHF"\n\n[scale]\nport = "/dev/smartcart-scale"\n')
    done = _provision(tmp_path)
    assert done.returncode == 0, done.stderr
    config = load_config(config_path)
    assert config.cart.id == "cart-007" and config.cart.currency == "CHF"  # other keys kept
    assert config.store.url == "https://store.example/api"
    assert config.scale.port == "/dev/smartcart-scale"
    secrets_path = tmp_path / "etc/credential.json"
    assert stat.S_IMODE(secrets_path.stat().st_mode) == 0o600
    credential = load_credential(secrets_path)
    assert credential.cart_id == "cart-007" and len(credential.secret) == 32
    printed = done.stdout + done.stderr
    for form in secret_forms(credential.secret):
        assert form not in printed
        assert form not in config_path.read_text()
    assert "cart-store add-cart cart-007" in done.stdout


def test_rerun_keeps_the_secret_and_rotate_replaces_it(tmp_path: Path) -> None:
    assert _provision(tmp_path).returncode == 0
    first = load_credential(tmp_path / "etc/credential.json").secret
    again = _provision(tmp_path)
    assert again.returncode == 0 and "secret kept" in again.stdout
    assert load_credential(tmp_path / "etc/credential.json").secret == first
    other = _provision(tmp_path, cart="cart-008")
    assert other.returncode == 1 and "holds the credential of cart 'cart-007'" in other.stderr
    assert load_config(tmp_path / "etc/cartd.toml").cart.id == "cart-007"  # nothing changed
    assert _provision(tmp_path, "--rotate", cart="cart-008").returncode == 0
    assert load_credential(tmp_path / "etc/credential.json").secret != first


@pytest.mark.parametrize(
    ("cart", "url", "message"),
    [("cart 7", "https://s", "id must be"), ("cart-7", "ftp://s", "http"), ("", "https://s", "id must be")],
)
def test_bad_input_is_refused_before_writing(tmp_path: Path, capsys, cart: str, url: str, message: str) -> None:
    config, secrets = tmp_path / "c.toml", tmp_path / "s.json"
    code = main(
        ["provision", "--cart-id", cart, "--store-url", url, "--config", str(config), "--secrets", str(secrets)]
    )
    assert code == 1 and message in capsys.readouterr().err
    assert not config.exists() and not secrets.exists()


def test_a_broken_config_is_not_overwritten(tmp_path: Path, capsys) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[cart\n")
    code = main(["provision", "--cart-id", "c1", "--store-url", "https://s", "--config", str(config),
                 "--secrets", str(tmp_path / "s.json")])  # fmt: skip
    assert code == 1 and "not valid TOML" in capsys.readouterr().err
    assert config.read_text() == "[cart\n"


def test_toml_writer_round_trips() -> None:
    import tomllib

    data = {"cart": {"id": 'a"b\\c\x7f\n', "n": 3, "x": 1.5, "on": True}, "odd key": {"k-1": [1, 2]}}
    assert tomllib.loads(tomlout.dumps(data, "header")) == data
