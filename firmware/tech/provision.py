"""Provisioning a cart (`cartctl provision`): its id and store URL go into cartd's config TOML
(firmware/daemon/config.py format, validated before anything is written); its credential, a
secret shared with the store (firmware/sync/credentials.py), goes into a separate file with mode
0600. The secret is never printed or logged; what is reported is where it went.

Re-running with the same cart id keeps the credential (only the store URL is updated); a different
cart id, or `rotate`, makes a new secret, which must then be registered at the store again.
"""

from __future__ import annotations

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.daemon.config import ConfigError, parse_config
from firmware.sync.credentials import (
    Credential,
    CredentialError,
    load_credential,
    make_credential,
    save_credential,
)
from firmware.tech import tomlout
from firmware.tech.paths import DEFAULT_CONFIG, DEFAULT_SECRETS  # noqa: F401 (re-exported)

SECRET_MODE = 0o600


class ProvisionError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ProvisionResult:
    config_path: Path
    secrets_path: Path
    cart_id: str
    store_url: str
    new_secret: bool  # a new secret was made: register it at the store


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProvisionError(f"{path}: not valid TOML ({exc}); fix or remove it first") from None
    except OSError as exc:
        raise ProvisionError(f"cannot read {path}: {exc.strerror}") from None


def _existing_credential(path: Path) -> Credential | None:
    if not path.exists():
        return None
    try:
        return load_credential(path)
    except CredentialError as exc:
        raise ProvisionError(f"{exc} (pass --rotate to replace it with a new credential)") from None


def provision(
    config_path: str | Path,
    secrets_path: str | Path,
    cart_id: str,
    store_url: str,
    rotate: bool = False,
) -> ProvisionResult:
    config_path, secrets_path = Path(config_path), Path(secrets_path)
    if config_path.resolve() == secrets_path.resolve():
        raise ProvisionError("the secrets file must not be the config file")
    data = _read_config(config_path)
    data.setdefault("cart", {})["id"] = cart_id
    data.setdefault("store", {})["url"] = store_url.rstrip("/")
    try:
        parse_config(data, str(config_path))
        fresh = make_credential(cart_id, store_url)
    except (ConfigError, CredentialError) as exc:
        raise ProvisionError(str(exc)) from None
    old = None if rotate else _existing_credential(secrets_path)
    if old is not None and old.cart_id != cart_id:
        raise ProvisionError(
            f"{secrets_path} holds the credential of cart {old.cart_id!r}, not {cart_id!r}; "
            "pass --rotate to replace it (the store must then be given the new one)"
        )
    credential = fresh if old is None else Credential(cart_id, old.secret, fresh.store_url)
    # the secret first: a config naming a cart whose credential is missing is the worse half-state
    save_credential(secrets_path, credential)
    mode = stat.S_IMODE(os.stat(secrets_path).st_mode)
    if mode != SECRET_MODE:
        raise ProvisionError(f"{secrets_path} has mode {mode:o}, not {SECRET_MODE:o}")
    header = "cartd configuration (firmware/daemon/config.py); written by cartctl provision.\nSecrets are not here."
    keep_mode = stat.S_IMODE(os.stat(config_path).st_mode) if config_path.exists() else 0o644
    tomlout.write_atomic(config_path, tomlout.dumps(data, header), keep_mode)
    return ProvisionResult(config_path, secrets_path, cart_id, credential.store_url, old is None)
