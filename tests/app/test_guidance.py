"""Which buttons each alert kind gets, and which intent each button sends (no Kivy needed)."""

from __future__ import annotations

from cart_app.guidance import Action, guide

LINES = [
    {"code": "5012345678900", "name": "Canned tomatoes", "qty": 2, "amount_cents": 258},
    {"code": "4011", "name": "Bananas", "qty": 1, "weight_g": 640.0, "amount_cents": 127},
]
GUM = {"uid": 12, "code": "96385074", "name": "Chewing gum", "price_cents": 99, "by_weight": False}
PEN = {"uid": 13, "code": "4006381333931", "name": "Felt pens", "price_cents": 349, "by_weight": False}


def alert(kind: str, detail: str = "", **extra: object) -> dict[str, object]:
    return {"aid": 5, "kind": kind, "t": 1.0, "detail": detail, "resolved": False, "hint": "", **extra}


def test_removal_unidentified_offers_every_line_answered_with_remove() -> None:
    g = guide(alert("removal_unidentified", "640 g taken out; which item was it?"), {"lines": LINES, "pending": []})
    assert [(a.label, a.op, a.args) for a in g.actions] == [
        ("Canned tomatoes", "remove", {"code": "5012345678900"}),
        ("Bananas", "remove", {"code": "4011"}),
    ]
    assert g.title == "Which item did you take out?" and g.hint  # a fallback hint when cartd sends none


def test_removal_unidentified_offers_the_candidates_cartd_lists_even_off_the_bill() -> None:
    # the dearer twin is off the bill while the question is open: it must still be a button
    candidates = [{"code": "4000000000006", "name": "Yoghurt strawberry"}, {"code": "4000000000013", "name": "Vanilla"}]
    g = guide(alert("removal_unidentified", candidates=candidates), {"lines": LINES, "pending": []})
    assert [a.args["code"] for a in g.actions] == ["4000000000006", "4000000000013"]


def test_scan_not_placed_cancels_the_scan_its_detail_names() -> None:
    view = {"lines": LINES, "pending": [PEN, GUM]}
    g = guide(alert("scan_not_placed", "Chewing gum scanned; nothing went in"), view)
    assert g.actions == (Action("Cancel this scan", "remove", {"code": "96385074"}),)


def test_weight_mismatch_names_the_code_in_its_detail() -> None:
    view = {"lines": [], "pending": [PEN, GUM]}
    g = guide(alert("weight_mismatch", "310 g went in; it does not fit 4006381333931"), view)
    assert g.actions == (Action("Cancel this scan", "remove", {"code": "4006381333931"}),)


def test_an_explicit_code_in_the_alert_wins_and_ambiguity_lists_every_scan() -> None:
    view = {"lines": [], "pending": [PEN, GUM]}
    assert guide(alert("scan_not_placed", "?", code="96385074"), view).actions[0].args == {"code": "96385074"}
    listed = guide(alert("scan_not_placed", "something scanned"), view).actions
    assert [a.label for a in listed] == ["Cancel Felt pens", "Cancel Chewing gum"]


def test_unscanned_item_leads_to_the_keypad_and_staff_alerts_have_no_buttons() -> None:
    g = guide(alert("unscanned_item", "300 g went in without a scan", hint="Scan it."), {"lines": LINES})
    assert (
        g.hint == "Scan it." and {a.screen for a in g.actions} == {"produce"} and all(a.op is None for a in g.actions)
    )
    for kind in ("unknown_code", "scale_fault", "something_new"):
        assert guide(alert(kind), {"lines": LINES, "pending": [GUM]}).actions == ()
    assert guide(alert("something_new"), {}).title == "Something new"


def test_long_names_are_shortened_on_buttons() -> None:
    line = {"code": "1", "name": "Extra virgin olive oil, cold pressed, 750 ml"}
    label = guide(alert("removal_unidentified"), {"lines": [line]}).actions[0].label
    assert len(label) <= 22 and label.endswith("…")
