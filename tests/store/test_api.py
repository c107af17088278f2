"""The cart API on SQLite and PostgreSQL: auth, idempotent ingest, 409s, receipts, catalog deltas."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest

from firmware.sync.client import StoreClient
from firmware.sync.signing import signed_headers
from tests.store.support import rig, session_payload


def put_path(payload: dict) -> str:
    return f"/v1/carts/{payload['cart_id']}/sessions/{payload['session_id']}/messages/{payload['sequence']}"


def test_first_delivery_stores_and_replay_gets_the_stored_answer(db_url: str) -> None:
    with rig(db_url) as r:
        cart = r.carts["cart-a"]
        payload = session_payload("cart-a", "s1", seed=1, review=False)
        first = cart.put_session_message(payload)
        assert first.status == 201 and not first.replayed
        assert first.body["status"] == "charged"
        assert first.body["total_cents"] == payload["report"]["total_cents"]
        again = cart.put_session_message(json.loads(json.dumps(payload)))  # same value, new request
        assert again.status == 201 and again.replayed
        assert again.body == first.body
        receipt = cart.receipt("s1")
        assert receipt.status == 200
        assert receipt.body["receipt_id"] == first.body["receipt_id"]
        assert receipt.body["charged_cents"] == payload["report"]["total_cents"]
        assert receipt.body["status"] == "charged"


def test_same_key_with_another_body_is_409(db_url: str) -> None:
    with rig(db_url) as r:
        cart = r.carts["cart-a"]
        payload = session_payload("cart-a", "s1", seed=2, review=False)
        assert cart.put_session_message(payload).status == 201
        changed = copy.deepcopy(payload)
        changed["report"]["items"][0]["amount_cents"] += 1
        changed["report"]["total_cents"] += 1
        assert cart.put_session_message(changed).status == 409
        other_seq = {**copy.deepcopy(payload), "sequence": 2, "message_id": "another-id-123"}
        reply = cart.put_session_message(other_seq)
        assert reply.status == 409 and "another sequence" in reply.body["detail"]
        reused_id = session_payload("cart-a", "s2", seed=3, review=False)
        reused_id["message_id"] = payload["message_id"]
        reply = cart.put_session_message(reused_id)
        assert reply.status == 409 and "message_id" in reply.body["detail"]


def test_review_session_is_not_charged_until_decided(db_url: str) -> None:
    with rig(db_url) as r:
        payload = session_payload("cart-a", "s9", seed=4, review=True)
        answer = r.carts["cart-a"].put_session_message(payload)
        assert answer.status == 201 and answer.body["status"] == "pending_review"
        receipt = r.carts["cart-a"].receipt("s9").body
        assert receipt["status"] == "pending_review" and receipt["charged_cents"] is None


def test_unsigned_badly_signed_stale_and_replayed_requests_are_401(sqlite_url: str) -> None:
    with rig(sqlite_url) as r:
        payload = session_payload("cart-a", "s1", seed=5, review=False)
        path = put_path(payload)
        body = json.dumps(payload).encode()
        unsigned = r.http.put(path, content=body)
        assert unsigned.status_code == 401 and unsigned.headers["www-authenticate"] == "CART-HMAC-SHA256"
        credential = r.credentials["cart-a"]
        wrong = signed_headers("cart-a", b"x" * 32, "PUT", path, body, time.time())
        assert r.http.put(path, content=body, headers=wrong).status_code == 401
        tampered = signed_headers("cart-a", credential.secret, "PUT", path, body, time.time())
        assert r.http.put(path, content=body + b" ", headers=tampered).status_code == 401
        stale = signed_headers("cart-a", credential.secret, "PUT", path, body, time.time() - 3600)
        answer = r.http.put(path, content=body, headers=stale)
        assert answer.status_code == 401 and "stale" in answer.json()["detail"]
        assert abs(float(answer.headers["x-store-time"]) - time.time()) < 60
        good = signed_headers("cart-a", credential.secret, "PUT", path, body, time.time())
        assert r.http.put(path, content=body, headers=good).status_code == 201
        assert r.http.put(path, content=body, headers=good).status_code == 401  # nonce seen
        unknown = signed_headers("cart-zz", credential.secret, "GET", "/v1/catalog", b"", time.time())
        assert r.http.get("/v1/catalog", headers=unknown).status_code == 401


def test_a_cart_with_a_wrong_clock_learns_the_offset(sqlite_url: str) -> None:
    with rig(sqlite_url) as r:
        late = StoreClient(r.credentials["cart-a"], http=r.http, clock=lambda: time.time() - 7200)
        assert late.catalog_since(0).status == 200
        assert abs(late.clock_offset_s - 7200) < 60


def test_a_cart_cannot_touch_another_carts_sessions(db_url: str) -> None:
    with rig(db_url) as r:
        payload = session_payload("cart-b", "sb", seed=6, review=False)
        assert r.carts["cart-b"].put_session_message(payload).status == 201
        intruder = r.carts["cart-a"]
        assert intruder.request("PUT", put_path(payload), payload).status == 403
        assert intruder.request("GET", "/v1/carts/cart-b/sessions/sb/receipt").status == 403
        assert intruder.request("GET", "/v1/carts/cart-b/confirmed-weighings").status == 403
        assert intruder.receipt("sb").status == 404  # its own path: no such session for cart-a


def test_bad_bodies_are_refused_clearly(sqlite_url: str) -> None:
    with rig(sqlite_url) as r:
        cart = r.carts["cart-a"]
        payload = session_payload("cart-a", "s1", seed=7, review=False)
        wrong_total = copy.deepcopy(payload)
        wrong_total["report"]["total_cents"] += 5
        reply = cart.put_session_message(wrong_total)
        assert reply.status == 422 and "sum of the lines" in json.dumps(reply.body)
        elsewhere = copy.deepcopy(payload)
        elsewhere["session_id"] = "s2"  # body names another session than the URL
        assert cart.request("PUT", put_path(payload), elsewhere).status == 422
        path = put_path(payload)
        for body in (b"{not json", b'{"x": NaN}'):
            headers = signed_headers("cart-a", r.credentials["cart-a"].secret, "PUT", path, body, time.time())
            assert r.http.put(path, content=body, headers=headers).status_code == 422
        huge = b" " * (9 * 1024 * 1024)
        headers = signed_headers("cart-a", r.credentials["cart-a"].secret, "PUT", path, huge, time.time())
        assert r.http.put(path, content=huge, headers=headers).status_code == 413
        assert cart.put_session_message(payload).status == 201  # none of that stored anything


def test_racing_copies_store_one_session(db_url: str) -> None:
    with rig(db_url) as r:
        payload = session_payload("cart-a", "race", seed=8, review=False)
        answers: list = []

        def send() -> None:
            client = StoreClient(r.credentials["cart-a"], http=r.http)
            answers.append(client.put_session_message(payload))

        threads = [threading.Thread(target=send) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status for a in answers) == [201] * 6
        assert len({a.body["receipt_id"] for a in answers}) == 1
        assert sum(not a.replayed for a in answers) == 1
        from cart_store.db import Charge, Session

        with r.app.state.sessions() as db:
            assert db.query(Session).count() == 1 and db.query(Charge).count() == 1


def race_ingest(sessions: object, payload: dict, copies: int) -> list:
    """`copies` threads released together, each ingesting the same message."""
    from cart_store.ingest import ingest

    body = json.dumps(payload).encode()
    start = threading.Barrier(copies)
    outcomes: list = []

    def send() -> None:
        start.wait()
        outcomes.append(ingest(sessions, payload["cart_id"], payload["session_id"], payload["sequence"], body))

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_many_races_straight_into_ingest_never_answer_409(db_url: str) -> None:
    """Many six-way races on the upsert itself (no HTTP in between to spread the copies out).

    Under PostgreSQL, asking about the message and about the session in two statements let the
    winner commit in between: about half the rounds answered a true replay with 409.
    """
    from cart_store.db import Charge, Message, Session

    with rig(db_url) as r:
        base = session_payload("cart-a", "race", seed=8, review=False)
        for round_no in range(25):
            session_id = f"race-{round_no}"
            payload = copy.deepcopy(base)
            payload.update(session_id=session_id, message_id=f"race-message-{round_no:04d}")
            payload["report"]["session_id"] = session_id
            outcomes = race_ingest(r.app.state.sessions, payload, copies=6)
            assert [(o.status, o.body.get("detail")) for o in outcomes if o.status != 201] == []
            assert sum(not o.replayed for o in outcomes) == 1
            assert len({o.body["receipt_id"] for o in outcomes}) == 1
        with r.app.state.sessions() as db:
            assert db.query(Session).count() == db.query(Charge).count() == db.query(Message).count() == 25


def test_catalog_versions_and_deltas(db_url: str) -> None:
    from tests.store.fixtures import import_catalog

    with rig(db_url) as r:
        cart = r.carts["cart-a"]
        full = cart.catalog_since(0).body
        assert full["version"] == 1 and full["full"] and len(full["items"]) == 5
        changed = (
            "code,name,price_cents,sold_by,weight_g\n"
            "5012345678900,Canned tomatoes 400 g,139,each,452\n"  # price up
            "96385074,Chewing gum,99,each,21.5\n"
            "4006381333931,Pasta 500 g,189,each,510\n"
            "4011,Bananas,199,weight,\n"
            "7610700600863,Chocolate 100 g,249,each,105\n"  # new; coffee removed
        )
        assert import_catalog(r.app, changed) == 2
        assert import_catalog(r.app, changed) == 2  # nothing changed: no new version
        delta = cart.catalog_since(1).body
        assert not delta["full"] and delta["version"] == 2
        assert sorted(i["code"] for i in delta["items"]) == ["5012345678900", "7610700600863"]
        assert delta["removed"] == ["8712100849084"]
        assert cart.catalog_since(2).body["items"] == []
        unknown = cart.catalog_since(99).body  # a version this store never issued: everything
        assert unknown["full"] and len(unknown["items"]) == 5


def test_catalog_import_names_the_bad_line(store_deps: None) -> None:
    from cart_store.catalog import CatalogImportError, parse_csv

    with pytest.raises(CatalogImportError, match=r"cat.csv:3: price_cents"):
        parse_csv("code,name,price_cents,weight_g\n96385074,Gum,99,21\n4011,Bananas,1.99,\n", "cat.csv")
    with pytest.raises(CatalogImportError, match="missing column"):
        parse_csv("code,name\n1,2\n")


def test_units_weighed_alone_in_settled_sessions_teach_the_other_carts(db_url: str) -> None:
    from firmware.sync.weighings import fetch_fleet_weighings

    with rig(db_url) as r:
        settled = session_payload("cart-b", "settled", seed=6, review=False)
        alone = [w for w in settled["weighings"] if w["alone"] and w["code"] and not w["by_weight"]]
        assert alone, "the shopped session put nothing in alone"
        held = session_payload("cart-b", "held", seed=7, review=True)
        for w in held["weighings"]:
            w["alone"] = bool(w["code"])  # even if it said so, a session waiting for review teaches nothing
        assert r.carts["cart-b"].put_session_message(settled).status == 201
        assert r.carts["cart-b"].put_session_message(held).status == 201

        rows, since = fetch_fleet_weighings(r.carts["cart-a"], 0)
        assert sorted((w.code, w.weight_g) for w in rows) == sorted((w["code"], w["weight_g"]) for w in alone)
        assert since == rows[-1].id
        assert fetch_fleet_weighings(r.carts["cart-a"], since) == ([], since)  # polled again: nothing new
        assert fetch_fleet_weighings(r.carts["cart-b"], 0) == ([], 0)  # a cart's own are not sent back to it
        assert r.carts["cart-a"].request("GET", "/v1/carts/cart-b/fleet-weighings").status == 403


def test_a_unit_put_in_with_others_or_taken_out_again_is_not_a_fleet_weighing() -> None:
    from cart_store.ingest import settled_weighings

    weighings = [
        {"code": "A", "weight_g": 100.0, "by_weight": False, "alone": True},
        {"code": "A", "weight_g": 101.0, "by_weight": False, "alone": True},  # one A went back out
        {"code": "B", "weight_g": 250.0, "by_weight": False, "alone": False},  # a share of two
        {"code": "B", "weight_g": 250.0, "by_weight": False, "alone": False},
        {"code": "4011", "weight_g": 612.0, "by_weight": True, "alone": True},
        {"code": None, "weight_g": 80.0, "by_weight": False, "alone": False},
        {"code": "C", "weight_g": 40.0, "by_weight": False},  # an older cart that does not say
    ]
    items = [
        {"code": "A", "qty": 1, "weight_g": None},
        {"code": "B", "qty": 2, "weight_g": None},
        {"code": "4011", "qty": 1, "weight_g": 612.0},
        {"code": "C", "qty": 1, "weight_g": None},
    ]
    assert settled_weighings(weighings, items) == [("A", 100.0)]


def test_the_store_keeps_only_the_latest_fleet_weighings_of_each_product(db_url: str) -> None:
    from cart_store.db import FLEET_KEPT_PER_CODE, FleetWeighing, keep_latest_fleet, open_db
    from sqlalchemy import select

    engine, make_session = open_db(db_url)
    open_db(db_url)  # opened again (the index exists): no error
    with make_session() as db:
        for n in range(FLEET_KEPT_PER_CODE + 8):
            db.add(FleetWeighing(cart_id="cart-b", session_id=f"s{n}", code="A", weight_g=100.0 + n, received_unix=0))
        db.add(FleetWeighing(cart_id="cart-b", session_id="s0", code="B", weight_g=50.0, received_unix=0))
        keep_latest_fleet(db, ["A", "A"])
        db.commit()
        kept = db.execute(select(FleetWeighing.code, FleetWeighing.weight_g).order_by(FleetWeighing.id)).all()
    assert [g for code, g in kept if code == "A"] == [100.0 + n for n in range(8, FLEET_KEPT_PER_CODE + 8)]
    assert [g for code, g in kept if code == "B"] == [50.0]
    engine.dispose()


def test_the_store_keeps_twice_the_weighings_a_cart_keeps_of_a_product() -> None:
    # the store package does not import the firmware (it deploys apart), so the tie is checked here
    from cart_store.db import FLEET_KEPT_PER_CODE

    from firmware.core.weightbook import KEPT

    assert FLEET_KEPT_PER_CODE == 2 * KEPT
