"""Helpers for store tests: an app with two carts, a staff login, and sessions shopped on a cart."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from firmware.journal import Journal
from firmware.sync.client import StoreClient
from firmware.sync.credentials import Credential, make_credential
from tests.store.fixtures import add_cart, add_staff, import_catalog
from tools.store_harness import shop

STAFF, PASSWORD = "sam", "correct horse battery"


@dataclass
class Rig:
    app: Any
    http: TestClient
    carts: dict[str, StoreClient]
    credentials: dict[str, Credential]


@contextmanager
def rig(db_url: str) -> Iterator[Rig]:
    from cart_store.app import create_app

    app = create_app(db_url)
    import_catalog(app)
    add_staff(app, STAFF, PASSWORD)
    with TestClient(app, base_url="http://store.test") as http:
        credentials, clients = {}, {}
        for cart_id in ("cart-a", "cart-b"):
            credential = make_credential(cart_id, "http://store.test")
            add_cart(app, cart_id, credential.secret_b64)
            credentials[cart_id] = credential
            clients[cart_id] = StoreClient(credential, http=http)
        yield Rig(app, http, clients, credentials)
    app.state.engine.dispose()


def session_payload(cart_id: str, session_id: str, seed: int, review: bool | None = None) -> dict[str, Any]:
    """A real session message (shopped through the pipeline); `review` picks a seed that gives it."""
    for attempt in range(200):
        journal = Journal(None)
        report = shop(journal, cart_id, session_id, random.Random(seed * 1000 + attempt))
        if review is None or report["review"]["required"] == review:
            (row,) = journal.outbox_due(1e12)
            return row.payload
    raise AssertionError("no seed gave the wanted session")
