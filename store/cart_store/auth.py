"""Who is asking: carts by per-cart HMAC-signed requests, staff by password and a session cookie.

The cart's signature covers the cart id, method, path with query, a timestamp, a nonce and the
SHA-256 of the body (the exact lines are in `store/PROTOCOL.md`; the cart signs the same way in
`firmware/sync/signing.py`, and both are tested against `signing_vectors.json`). A request is
refused with 401 when unsigned, badly signed, older or newer than the freshness window, or when
its nonce was already seen inside that window. Staff passwords are hashed with scrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from cart_store.db import Cart, Nonce, Staff, StaffSession

SCHEME = "CART-HMAC-SHA256"
FRESHNESS_S = 300.0
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CART_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
STAFF_SESSION_S = 12 * 3600.0
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class AuthError(Exception):
    def __init__(self, status: int, reason: str, server_time: float | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.server_time = server_time


def canonical_request(cart_id: str, method: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a cart signs: see PROTOCOL.md; `target` is the path and query exactly as sent."""
    lines = [SCHEME, cart_id, method.upper(), target, timestamp, nonce, hashlib.sha256(body).hexdigest()]
    return "\n".join(lines).encode("utf-8")


def signature(secret: bytes, canonical: bytes) -> str:
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def decode_secret(secret_b64: str) -> bytes:
    return base64.urlsafe_b64decode(secret_b64 + "=" * (-len(secret_b64) % 4))


def new_secret_b64() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    cart_id: str
    timestamp: str
    nonce: str
    signature: str

    @classmethod
    def parse(cls, headers: dict[str, str]) -> SignedHeaders:
        values = [headers.get(name, "") for name in ("x-cart-id", "x-cart-timestamp", "x-cart-nonce")]
        sig = headers.get("x-cart-signature", "")
        if not all(values) or not sig:
            raise AuthError(401, "unsigned request: X-Cart-Id, -Timestamp, -Nonce and -Signature needed")
        cart_id, timestamp, nonce = values
        if not CART_ID_RE.match(cart_id) or not timestamp.isdigit() or not NONCE_RE.match(nonce):
            raise AuthError(401, "malformed signature headers")
        return cls(cart_id, timestamp, nonce, sig.lower())


def verify_cart_request(
    db: DbSession, headers: dict[str, str], method: str, target: str, body: bytes, now: float | None = None
) -> str:
    """The authenticated cart id, or AuthError(401). Records the nonce (commits)."""
    now = time.time() if now is None else now
    signed = SignedHeaders.parse(headers)
    cart = db.get(Cart, signed.cart_id)
    # the same work whether or not the cart exists, so timing does not tell which ids are real
    secret = decode_secret(cart.secret_b64) if cart is not None else b"\0" * 32
    expected = signature(
        secret, canonical_request(signed.cart_id, method, target, signed.timestamp, signed.nonce, body)
    )
    if not hmac.compare_digest(expected, signed.signature) or cart is None or cart.disabled:
        raise AuthError(401, "bad signature or unknown cart")
    if abs(now - int(signed.timestamp)) > FRESHNESS_S:
        raise AuthError(401, "stale request: timestamp outside the freshness window", server_time=now)
    db.execute(delete(Nonce).where(Nonce.seen_unix < now - 2 * FRESHNESS_S))
    db.add(Nonce(cart_id=signed.cart_id, nonce=signed.nonce, seen_unix=now))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise AuthError(401, "nonce already used") from None
    return signed.cart_id


# -- staff -----------------------------------------------------------------------------------------


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, digest = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
        got = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(digest))
    except ValueError:
        return False
    return hmac.compare_digest(got, digest)


DUMMY_HASH = hash_password("not a real password")


def login(db: DbSession, username: str, password: str, now: float | None = None) -> str | None:
    """A new session token for good credentials, else None (same cost for unknown users)."""
    now = time.time() if now is None else now
    staff = db.get(Staff, username)
    ok = check_password(password, staff.password_hash if staff else DUMMY_HASH)
    if staff is None or not ok:
        return None
    token = secrets.token_urlsafe(32)
    db.execute(delete(StaffSession).where(StaffSession.expires_unix < now))
    db.add(StaffSession(token_sha256=_sha(token), username=username, expires_unix=now + STAFF_SESSION_S))
    db.commit()
    return token


def staff_for_token(db: DbSession, token: str | None, now: float | None = None) -> str | None:
    if not token:
        return None
    now = time.time() if now is None else now
    row = db.get(StaffSession, _sha(token))
    if row is None or row.expires_unix < now:
        return None
    return row.username


def logout(db: DbSession, token: str | None) -> None:
    if token:
        db.execute(delete(StaffSession).where(StaffSession.token_sha256 == _sha(token)))
        db.commit()


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
