"""Staff decisions: login, CSRF, approve or correct, one charge, confirmed weighings for the cart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from firmware.sync.weighings import fetch_confirmed_weighings, fetch_fleet_weighings
from tests.store.support import PASSWORD, STAFF, rig, session_payload

REPO = Path(__file__).resolve().parents[2]


def login(http, password: str = PASSWORD):
    return http.post(
        "/review/login",
        content=f"username={STAFF}&password={password.replace(' ', '+')}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def session_pk(app, session_id: str) -> int:
    from cart_store.db import Session

    with app.state.sessions() as db:
        return db.query(Session).filter_by(session_id=session_id).one().id


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)


def test_console_needs_a_staff_login(sqlite_url: str) -> None:
    with rig(sqlite_url) as r:
        assert r.http.get("/review", follow_redirects=False).status_code == 303
        assert login(r.http, "wrong password!").status_code == 401
        assert "cart_store_staff" not in r.http.cookies
        ok = login(r.http)
        assert ok.status_code == 303 and "httponly" in ok.headers["set-cookie"].lower()
        assert "samesite=strict" in ok.headers["set-cookie"].lower()
        assert r.http.get("/review").status_code == 200
        r.http.post("/review/logout", follow_redirects=False)
        assert r.http.get("/review", follow_redirects=False).status_code == 303


def test_approve_charges_the_cart_total_and_confirms_its_weighings(db_url: str) -> None:
    with rig(db_url) as r:
        payload = session_payload("cart-a", "rv1", seed=11, review=True)
        r.carts["cart-a"].put_session_message(payload)
        login(r.http)
        pk = session_pk(r.app, "rv1")
        page = r.http.get(f"/review/sessions/{pk}")
        assert "<polyline" in page.text and "unscanned_item" in page.text
        form = {"csrf": "forged", "action": "approve"}
        post = r.http.post(f"/review/sessions/{pk}/decision", data=form, follow_redirects=False)
        assert post.status_code == 403
        form["csrf"] = csrf(page.text)
        post = r.http.post(f"/review/sessions/{pk}/decision", data=form, follow_redirects=False)
        assert post.status_code == 303
        again = r.http.post(f"/review/sessions/{pk}/decision", data=form, follow_redirects=False)
        assert again.status_code == 409
        receipt = r.carts["cart-a"].receipt("rv1").body
        assert receipt["status"] == "charged" and receipt["decided_by_staff"]
        assert receipt["charged_cents"] == payload["report"]["total_cents"]
        confirmed, next_since = fetch_confirmed_weighings(r.carts["cart-a"], 0)
        weighed = payload["weighings"]
        expected = [(w["code"], w["weight_g"]) for w in weighed if w["code"] and not w["by_weight"] and w["alone"]]
        assert expected and [(c.code, c.weight_g) for c in confirmed] == expected
        assert all(c.source == "approved" for c in confirmed)
        assert fetch_confirmed_weighings(r.carts["cart-a"], next_since)[0] == []
        assert fetch_confirmed_weighings(r.carts["cart-b"], 0)[0] == []  # cart-b sees only its own
        # ... but learns what staff vouched for as the store's fleet weighings, as cart-a already did
        assert [(f.code, f.weight_g) for f in fetch_fleet_weighings(r.carts["cart-b"], 0)[0]] == expected
        assert fetch_fleet_weighings(r.carts["cart-a"], 0)[0] == []


def test_correcting_identifies_the_unscanned_item(db_url: str) -> None:
    with rig(db_url) as r:
        payload = session_payload("cart-a", "rv2", seed=12, review=True)
        r.carts["cart-a"].put_session_message(payload)
        unexplained = [i for i, w in enumerate(payload["weighings"]) if w["code"] is None]
        assert unexplained, "the session should carry the unexplained weight"
        index = unexplained[0]
        grams = payload["weighings"][index]["weight_g"]
        code = {452.0: "5012345678900", 21.5: "96385074", 510.0: "4006381333931", 1020.0: "8712100849084"}[grams]
        price = {"5012345678900": 129, "96385074": 99, "4006381333931": 189, "8712100849084": 1299}[code]
        login(r.http)
        pk = session_pk(r.app, "rv2")
        token = csrf(r.http.get(f"/review/sessions/{pk}").text)
        bad = {"csrf": token, "action": "correct", "add_code_0": "123456"}
        answer = r.http.post(f"/review/sessions/{pk}/decision", data=bad)
        assert answer.status_code == 400 and "not in the store catalog" in answer.text
        form = {"csrf": token, "action": "correct", f"ident_{index}": code, "note": "checked the basket"}
        assert r.http.post(f"/review/sessions/{pk}/decision", data=form, follow_redirects=False).status_code == 303
        receipt = r.carts["cart-a"].receipt("rv2").body
        assert receipt["charged_cents"] == payload["report"]["total_cents"] + price
        confirmed, _ = fetch_confirmed_weighings(r.carts["cart-a"], 0)
        assert (code, grams, "identified") in [(c.code, c.weight_g, c.source) for c in confirmed]


def test_correction_rules(store_deps: None) -> None:
    from cart_store.decisions import Correction, confirmed_weighings, price_by_weight

    assert price_by_weight(199, 612.0) == 122
    items = [{"code": "A", "qty": 1, "weight_g": None, "amount_cents": 100}]
    weighings = [
        {"code": "A", "weight_g": 50.0, "by_weight": False, "alone": True},
        {"code": "A", "weight_g": 51.0, "by_weight": False, "alone": True},  # only one A stayed on the bill
        {"code": None, "weight_g": 30.0, "by_weight": False, "alone": False},
    ]
    assert confirmed_weighings(weighings, items, {2: "B"}) == [("A", 50.0, "approved"), ("B", 30.0, "identified")]
    # staff counted two units of C where the cart billed one: its one weighing held both, and
    # would teach the fleet that one C weighs twice what it does
    billed = [*items, {"code": "C", "qty": 1, "weight_g": None, "amount_cents": 80}]
    corrected = [*items, {"code": "C", "qty": 2, "weight_g": None, "amount_cents": 160}]
    two_c = [*weighings, {"code": "C", "weight_g": 240.0, "by_weight": False, "alone": True}]
    assert confirmed_weighings(two_c, corrected, {}, billed) == [("A", 50.0, "approved")]
    assert confirmed_weighings(two_c, billed, {}, billed) == [("A", 50.0, "approved"), ("C", 240.0, "approved")]
    # a unit's share of several put in together is not what one unit weighs
    shared = [{**w, "alone": False} for w in two_c]
    assert confirmed_weighings(shared, billed, {}, billed) == []
    assert Correction().line_qty == {}


def test_committed_openapi_is_the_served_one(sqlite_url: str) -> None:
    with rig(sqlite_url) as r:
        served = r.http.get("/openapi.json").json()
    committed = json.loads((REPO / "store" / "openapi.json").read_text())
    assert committed == served, "regenerate: python -m cart_store openapi > store/openapi.json"
    assert "/v1/carts/{cart_id}/sessions/{session_id}/messages/{sequence}" in served["paths"]
    assert "SessionMessage" in served["components"]["schemas"]


@pytest.mark.parametrize("version", ["v1"])
def test_signing_vectors_match_the_store(version: str, store_deps: None) -> None:
    from cart_store.auth import canonical_request, decode_secret, signature

    vectors = json.loads((REPO / "store" / "cart_store" / "signing_vectors.json").read_text())
    secret = decode_secret(vectors["secret_b64"])
    for case in vectors["cases"]:
        canonical = canonical_request(
            case["cart_id"], case["method"], case["target"], case["timestamp"], case["nonce"], case["body"].encode()
        )
        assert canonical.decode() == case["canonical"]
        assert signature(secret, canonical) == case["signature"]
