"""Cart side of checkout sync: signing vectors, credentials, the outbox message, catalog sync."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from firmware.core.catalog import load_catalog
from firmware.journal import Journal
from firmware.sync.catalog_sync import sync_catalog
from firmware.sync.credentials import CredentialError, load_credential, make_credential, save_credential
from firmware.sync.signing import canonical_request, sign
from tests.store.fixtures import import_catalog
from tests.store.support import rig
from tools.store_harness import shop

REPO = Path(__file__).resolve().parents[2]


def test_cart_signing_matches_the_protocol_vectors() -> None:
    import base64

    vectors = json.loads((REPO / "store" / "cart_store" / "signing_vectors.json").read_text())
    secret = base64.urlsafe_b64decode(vectors["secret_b64"] + "=")
    for case in vectors["cases"]:
        canonical = canonical_request(
            case["cart_id"], case["method"], case["target"], case["timestamp"], case["nonce"], case["body"].encode()
        )
        assert canonical.decode() == case["canonical"]
        assert sign(secret, canonical) == case["signature"]


def test_credential_round_trip_and_errors(tmp_path: Path) -> None:
    credential = make_credential("cart-17", "https://store.example/")
    path = tmp_path / "etc" / "credential.json"
    save_credential(path, credential)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = load_credential(path)
    assert loaded == credential and loaded.store_url == "https://store.example"
    assert credential.secret_b64 not in repr(loaded)
    assert make_credential("cart-17", "https://x").secret != credential.secret
    with pytest.raises(CredentialError, match="cannot read"):
        load_credential(tmp_path / "missing.json")
    path.chmod(0o644)
    with pytest.raises(CredentialError, match="chmod 600"):
        load_credential(path)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 1, "cart_id": "c", "secret_b64": "AAAA", "store_url": "http://x"}))
    bad.chmod(0o600)
    with pytest.raises(CredentialError, match="32 bytes"):
        load_credential(bad)
    bad.write_text("{")
    with pytest.raises(CredentialError, match="not JSON"):
        load_credential(bad)
    with pytest.raises(CredentialError, match="cart id"):
        make_credential("../etc", "http://x")
    with pytest.raises(CredentialError, match="http"):
        make_credential("c1", "ftp://x")


def test_session_end_and_outbox_row_are_one_transaction(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    report = shop(journal, "cart-1", "s1", random.Random(5))
    (row,) = journal.outbox_due(1e12)
    assert journal.session("s1").state == "ended"
    assert row.payload["report"] == report and row.session_id == "s1"
    assert row.payload["cart_id"] == "cart-1" and row.payload["sequence"] == 1
    assert len(row.message_id) == 36  # a UUID minted on the cart

    class Boom(RuntimeError):
        pass

    def failing_maker(_report: dict) -> dict:
        raise Boom

    from firmware.core.catalog import parse_catalog
    from firmware.pipeline import CartPipeline
    from tools.store_harness import CATALOG_CSV

    pipeline = CartPipeline(parse_catalog(CATALOG_CSV), "s2", journal=journal, cart_id="cart-1")
    with pytest.raises(Boom):
        pipeline.close(outbox=failing_maker)
    assert journal.session("s2").state == "open" and journal.outbox_pending() == 1


def test_review_session_carries_its_evidence_and_passes_the_store_schema(store_deps: None) -> None:
    from cart_store.schemas import SessionMessage

    for seed in range(100):
        journal = Journal(None)
        report = shop(journal, "cart-1", "s1", random.Random(seed))
        if report["review"]["required"]:
            break
    (row,) = journal.outbox_due(1e12)
    message = SessionMessage.model_validate(row.payload)
    alert = message.evidence.alerts[0]
    assert alert.kind == "unscanned_item" and "without a scan" in alert.detail
    assert alert.trace is not None and alert.trace.t0 <= alert.t <= alert.trace.t0 + len(alert.trace.values_g) / 10
    unexplained = [w for w in message.weighings if w.code is None]
    assert len(unexplained) == 1 and unexplained[0].weight_g > 0


def test_frames_around_alerts_are_attached() -> None:
    from firmware.sync.outbox import session_message

    for seed in range(100):
        journal = Journal(None)
        report = shop(journal, "cart-1", "s1", random.Random(seed))
        if report["alerts"]:
            break
    png = b"\x89PNG\r\n\x1a\n fake"
    seen: list[tuple[float, float]] = []

    def frames(t_from: float, t_to: float) -> list[tuple[float, str, bytes]]:
        seen.append((t_from, t_to))
        return [(t_from + 1.0, "image/png", png)]

    payload = session_message(journal, "cart-1", "s1", report, frames=frames)["payload"]
    assert seen and seen[0][0] < report["alerts"][0]["t"] < seen[0][1]
    assert payload["evidence"]["frames"][0]["media_type"] == "image/png"


def test_catalog_sync_full_then_incremental(sqlite_url: str, tmp_path: Path) -> None:
    with rig(sqlite_url) as r:
        path = tmp_path / "catalog.csv"
        assert sync_catalog(r.carts["cart-a"], path) == 1
        catalog = load_catalog(path)
        assert not catalog.errors and len(catalog.products) == 5
        import_catalog(r.app, path.read_text().replace("Chewing gum,99", "Chewing gum,109").replace("4011,", "4012,"))
        assert sync_catalog(r.carts["cart-a"], path) == 2
        catalog = load_catalog(path)
        assert catalog.lookup("96385074").product.price_cents == 109
        codes = {p.code for p in catalog.products.values()}
        assert "4012" in codes and "4011" not in codes
        assert sync_catalog(r.carts["cart-a"], path) == 2


def test_a_store_without_a_catalog_leaves_the_carts_copy_alone(tmp_path: Path) -> None:
    from firmware.sync.catalog_sync import held_version
    from firmware.sync.client import Reply

    class EmptyStore:
        def catalog_since(self, version: int) -> Reply:
            return Reply(200, {"version": 0, "since": version, "items": [], "removed": [], "full": True})

    path = tmp_path / "catalog.csv"
    path.write_text("code,name,price_cents\n96385074,Chewing gum,99\n")
    assert sync_catalog(EmptyStore(), path) == 0  # type: ignore[arg-type]
    assert len(load_catalog(path).products) == 1 and held_version(path) == 0


def test_report_outbox_takes_the_session_from_each_report() -> None:
    from firmware.core.catalog import parse_catalog
    from firmware.pipeline import CartPipeline
    from firmware.sync.outbox import report_outbox
    from tools.store_harness import CATALOG_CSV, session_events

    journal = Journal(None)
    maker = report_outbox(journal, "cart-1")
    for session_id in ("a", "b"):
        pipeline = CartPipeline(parse_catalog(CATALOG_CSV), session_id, journal=journal, cart_id="cart-1")
        pipeline.feed_all(session_events(random.Random(1)))
        pipeline.close(outbox=maker)
    rows = journal.outbox_due(1e12)
    assert [(r.session_id, r.payload["session_id"], r.payload["cart_id"]) for r in rows] == [
        ("a", "a", "cart-1"),
        ("b", "b", "cart-1"),
    ]
    assert rows[0].message_id != rows[1].message_id
