"""Per-cart request signing (HMAC-SHA256), exactly as store/PROTOCOL.md writes it.

Kept free of any store code: the cart and the store implement the protocol apart and are both
tested against the same vectors.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "CART-HMAC-SHA256"


def canonical_request(cart_id: str, method: str, target: str, timestamp: int | str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([SCHEME, cart_id, method.upper(), target, str(timestamp), nonce, digest]).encode()


def sign(secret: bytes, canonical: bytes) -> str:
    return hmac.new(secret, canonical, hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_urlsafe(18)  # 24 characters of the URL-safe alphabet


def signed_headers(
    cart_id: str, secret: bytes, method: str, target: str, body: bytes, now_unix: float
) -> dict[str, str]:
    timestamp, nonce = int(now_unix), new_nonce()
    canonical = canonical_request(cart_id, method, target, timestamp, nonce, body)
    return {
        "X-Cart-Id": cart_id,
        "X-Cart-Timestamp": str(timestamp),
        "X-Cart-Nonce": nonce,
        "X-Cart-Signature": sign(secret, canonical),
    }
