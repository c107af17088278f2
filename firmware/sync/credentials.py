"""The cart's own credential: its id, a 32-byte secret shared with the store, the store's URL.

`cartctl provision` calls `make_credential` and `save_credential`; the daemon calls
`load_credential`. The file is JSON, written atomically with mode 0600 (secrets never live in the
TOML config). The store side registers the same file with `cart-store add-cart ID --credential F`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from firmware.fileio import write_atomic

CART_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SECRET_BYTES = 32


class CredentialError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Credential:
    cart_id: str
    secret: bytes
    store_url: str

    @property
    def secret_b64(self) -> str:
        return base64.urlsafe_b64encode(self.secret).decode("ascii").rstrip("=")

    def __repr__(self) -> str:  # never print the secret by accident
        return f"Credential(cart_id={self.cart_id!r}, store_url={self.store_url!r})"


def make_credential(cart_id: str, store_url: str) -> Credential:
    if not CART_ID_RE.match(cart_id):
        raise CredentialError(f"cart id {cart_id!r}: letters, digits, '.', '_', '-' only, at most 64")
    if not store_url.startswith(("http://", "https://")):
        raise CredentialError(f"store URL {store_url!r} must start with http:// or https://")
    return Credential(cart_id, secrets.token_bytes(SECRET_BYTES), store_url.rstrip("/"))


def save_credential(path: str | Path, credential: Credential) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "version": 1,
        "cart_id": credential.cart_id,
        "secret_b64": credential.secret_b64,
        "store_url": credential.store_url,
    }
    write_atomic(path, json.dumps(data, indent=2), mode=0o600)


def load_credential(path: str | Path) -> Credential:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise CredentialError(f"cannot read the cart credential {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise CredentialError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") != 1:
        raise CredentialError(f"{path}: not a version 1 cart credential")
    try:
        cart_id, secret_b64, store_url = data["cart_id"], data["secret_b64"], data["store_url"]
        secret = base64.urlsafe_b64decode(secret_b64 + "=" * (-len(secret_b64) % 4))
    except (KeyError, TypeError, ValueError) as exc:
        raise CredentialError(f"{path}: missing or bad field ({exc})") from None
    if len(secret) != SECRET_BYTES:
        raise CredentialError(f"{path}: the secret must be {SECRET_BYTES} bytes, not {len(secret)}")
    if not isinstance(cart_id, str) or not CART_ID_RE.match(cart_id):
        raise CredentialError(f"{path}: bad cart id {cart_id!r}")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise CredentialError(f"{path}: readable by others; chmod 600 it")
    return Credential(cart_id, secret, str(store_url).rstrip("/"))
