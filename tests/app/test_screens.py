"""The real app's widgets, driven headless against the fake cartd: what the shopper sees and sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.app.fake_cartd import FakeCartd

if TYPE_CHECKING:  # importing the harness opens Kivy's window; the `ui` fixture does that once it is safe
    from tests.app.harness import Harness

GUM = {"uid": 3, "code": "96385074", "name": "Chewing gum", "price_cents": 99, "by_weight": False}


def shopping(ui: Harness, fake: FakeCartd) -> None:
    fake.update(state="shopping", session_id="cart-007-0001")
    ui.wait_until(lambda: ui.cart.state == "shopping" and ui.current == "basket", "shopping")


def test_start_then_basket_follows_items_as_they_arrive(ui: Harness, fake: FakeCartd) -> None:
    assert ui.current == "start"
    ui.screenshot("start")
    ui.tap_text("Start shopping")
    ui.request("start")
    ui.wait_until(lambda: ui.current == "basket", "the basket screen shows")
    assert ui.shows("Scan an item")

    fake.update(pending=[dict(GUM)])
    ui.wait_until(lambda: ui.shows("Chewing gum"), "the pending scan shows")
    assert ui.shows("(€0.99)") and ui.shows("not charged")
    assert ui.screen().ids.total.text == "€0.00"  # pending is not charged

    fake.place("96385074")
    ui.wait_until(lambda: ui.screen().ids.total.text == "€0.99", "the total includes the gum")
    fake.place("4011", weight_g=1250)
    ui.wait_until(lambda: ui.screen().ids.total.text == "€3.48", "the bananas are added")
    assert ui.shows("1.250 kg at €1.99/kg")
    assert not ui.shows("not charged")
    fake.update(pending=[{"uid": 9, "code": "4225", "name": "Avocado, large", "price_cents": 149, "by_weight": False}])
    ui.wait_until(lambda: ui.shows("Avocado, large"), "a second scan waits")
    ui.screenshot("basket")


def test_a_burst_of_snapshots_redraws_the_list_a_few_times_not_per_message(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    basket = ui.screen("basket")
    before_refreshes, before_applied = basket.refresh_count, ui.cart.snapshots_applied
    for qty in range(1, 201):
        fake.lines = [{"code": "96385074", "name": "Chewing gum", "qty": qty, "weight_g": None,
                       "amount_cents": 99 * qty, "unit_price_cents": 99}]  # fmt: skip
        fake.push()
    ui.wait_until(lambda: basket.ids.total.text == "€198.00", "the last total shows")
    refreshes = basket.refresh_count - before_refreshes
    applied = ui.cart.snapshots_applied - before_applied
    assert 1 <= refreshes <= applied < 100, (refreshes, applied)
    assert ui.shows("200 × €0.99")


def test_scan_not_placed_banner_cancels_that_scan(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.update(pending=[dict(GUM)])
    hint = "Put it in the cart, or cancel the scan."
    fake.raise_alert("scan_not_placed", "Chewing gum scanned; nothing went in", hint)
    banner = ui.root.ids.banner
    ui.wait_until(lambda: banner.shown, "the banner shows")
    assert ui.shows("Scanned, but nothing went in") and ui.shows("Put it in the cart, or cancel the scan.")
    ui.screenshot("alert")
    mark = len(fake.requests)
    ui.tap_text("Cancel this scan", banner)
    assert ui.request("remove", after=mark)["code"] == "96385074"
    ui.wait_until(lambda: not banner.shown and not ui.shows("Chewing gum"), "the scan is withdrawn")
    assert banner.height == 0


def test_removal_unidentified_lists_the_basket_to_answer_with(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.place("5012345678900", push=False)
    fake.place("4006381333931")
    fake.raise_alert("removal_unidentified", "349 g taken out; which item was it?", "Tap the item you took out.")
    banner = ui.root.ids.banner
    ui.wait_until(lambda: banner.shown, "the banner asks")
    labels = [b.text for b in banner.ids.actions.children]
    assert sorted(labels) == ["Canned tomatoes", "Felt pens, 10 colours"]  # an older cartd: every line
    mark = len(fake.requests)
    ui.tap_text("Felt pens, 10 colours", banner)
    assert ui.request("remove", after=mark)["code"] == "4006381333931"
    ui.wait_until(lambda: not banner.shown, "the question is answered")
    assert ui.screen("basket").ids.total.text == "€1.29"


def test_removal_unidentified_offers_only_the_candidates_cartd_lists(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.place("5012345678900", push=False)
    fake.place("4006381333931", push=False)
    fake.place("96385074")
    candidates = [
        {"code": "4006381333931", "name": "Felt pens, 10 colours"},
        {"code": "96385074", "name": "Chewing gum"},
    ]
    fake.raise_alert(
        "removal_unidentified",
        "20 g taken out; which item was it?",
        "Tap the item you took out.",
        candidates=candidates,
    )
    banner = ui.root.ids.banner
    ui.wait_until(lambda: banner.shown, "the banner asks")
    labels = [b.text for b in banner.ids.actions.children]
    assert sorted(labels) == ["Chewing gum", "Felt pens, 10 colours"]  # not the tomatoes: they weigh 400 g
    ui.screenshot("alert-which-item")
    mark = len(fake.requests)
    ui.tap_text("Chewing gum", banner)
    assert ui.request("remove", after=mark)["code"] == "96385074"
    ui.wait_until(lambda: not banner.shown, "the question is answered")


def test_plu_keypad_sends_plu_and_a_long_code_is_a_barcode(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    ui.tap_text("Produce / type a code")
    assert ui.current == "produce"
    produce = ui.screen()
    for key in "4011":
        ui.tap_text(key, produce.ids.keypad)
    assert produce.ids.display.text == "4011"
    ui.tap_text("Add produce", produce)
    assert ui.request("plu")["plu"] == "4011"
    ui.wait_until(lambda: ui.current == "basket" and ui.shows("Bananas"), "back on the basket with the scan")

    ui.tap_text("Produce / type a code")
    for key in "9638507":
        ui.tap_text(key, produce.ids.keypad)
    ui.tap_text("Back", produce.ids.keypad)
    for key in "74":
        ui.tap_text(key, produce.ids.keypad)
    ui.tap_text("Add barcode", produce)
    assert ui.request("code")["text"] == "96385074"


def test_unknown_plu_is_refused_in_words_and_the_keypad_stays(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    ui.app.show("produce")
    ui.frames(2)
    for key in "9999":
        ui.tap_text(key, ui.screen().ids.keypad)
    ui.tap_text("Add produce", ui.screen())
    ui.wait_until(lambda: "unknown PLU 9999" in ui.cart.notice, "the refusal is shown")
    assert ui.current == "produce" and ui.shows("unknown PLU 9999")


def test_search_by_name_shows_results_with_placeholders_and_adds_one(ui: Harness, fake: FakeCartd, tmp_path) -> None:
    picture = tmp_path / "apple.png"
    _draw_apple(picture)
    fake.catalog["4131"] = fake.catalog["4131"].__class__("Apples, Fuji", 299, "weight", str(picture))
    shopping(ui, fake)
    ui.app.show("produce")
    produce = ui.screen()
    produce.ids.query.text = "a"
    query = ui.request("search")
    assert query["query"] == "a"
    ui.wait_until(lambda: len(produce.results) >= 3, "results show")
    names = [row["name"] for row in produce.results]
    assert names[:3] == ["Apples, Fuji", "Avocado, large", "Bananas"]  # produce first
    assert ui.shows("€2.99/kg", produce) and ui.shows("B", produce)  # price per kg, lettered placeholder
    pictures = [w for w in _walk(produce) if type(w).__name__ == "ProductPicture" and w.name == "Apples, Fuji"]
    assert pictures and pictures[0].has_image
    ui.screenshot("produce")
    ui.tap_text("Avocado, large", produce)
    assert ui.request("plu")["plu"] == "4225"

    produce.ids.query.text = "zzz"
    ui.wait_until(lambda: ui.shows("Nothing found", produce), "an empty search says so")


def test_remove_screen_sends_the_item_taken_out(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.place("5012345678900", push=False)
    fake.place("5012345678900", push=False)
    fake.pending.append(dict(GUM))
    fake.place("4011", weight_g=640)
    ui.wait_until(lambda: ui.current == "basket" and ui.shows("Bananas"), "basket filled")
    ui.tap_text("Take an item out")
    assert ui.current == "remove"
    ui.wait_until(lambda: ui.shows("Canned tomatoes", ui.screen()), "rows show")
    ui.screenshot("remove")
    ui.tap_text("Canned tomatoes", ui.screen())
    assert ui.request("remove")["code"] == "5012345678900"
    ui.wait_until(lambda: ui.current == "basket" and ui.shows("1 × €1.29"), "one tin left")


def test_checkout_shows_review_then_receipt_and_sync(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.place("5012345678900", push=False)
    fake.place("4131", weight_g=812)
    ui.wait_until(lambda: ui.shows("Apples, Fuji"), "basket filled")
    fake.review = {"required": True, "reasons": ["weight_mismatch"]}
    ui.tap_text("Pay")
    ui.request("checkout")
    ui.wait_until(lambda: ui.current == "checkout", "the checkout screen shows")
    checkout = ui.screen()
    assert checkout.ids.total.text == "€3.72"
    assert ui.shows("A member of staff will check the cart: an item did not match its scan.")
    ui.screenshot("checkout")

    fake.devices["store"] = {"ok": False, "pending": 1, "detail": "store offline"}
    ui.tap_text("Finish", checkout)
    ui.request("end")
    ui.wait_until(lambda: ui.cart.receipt is not None, "the receipt arrives")
    assert ui.shows("Receipt") and ui.shows("Waiting to send to the store (store offline)")
    fake.devices["store"] = {"ok": True, "pending": 0, "detail": ""}
    fake.update(receipt={**fake.receipt, "synced": True})
    ui.wait_until(lambda: ui.shows("Sent to the store"), "the sync is confirmed")
    assert checkout.ids.total.text == "€3.72"
    ui.screenshot("receipt")
    ui.tap_text("Start a new session", checkout)
    ui.wait_until(lambda: ui.current == "basket", "a new session starts")


def test_reconnects_by_itself_after_cartd_restarts(ui: Harness, fake: FakeCartd) -> None:
    shopping(ui, fake)
    fake.place("96385074")
    ui.wait_until(lambda: ui.screen("basket").ids.total.text == "€0.99", "connected and shopping")
    fake.stop()
    cover = ui.root.ids.cover
    ui.wait_until(lambda: not ui.cart.connected and cover.opacity == 1, "the app shows it is connecting")
    assert ui.shows("connecting…")
    ui.screenshot("connecting")
    assert ui.app.link.send("checkout") is False  # offline: refused in words, not queued
    assert "Not connected" in ui.cart.notice

    fake.start()
    fake.place("96385074")  # the restarted daemon rebuilt the session from its journal (and one more gum)
    ui.wait_until(lambda: ui.cart.connected and cover.opacity == 0, "reconnected", timeout_s=8)
    ui.wait_until(lambda: ui.screen("basket").ids.total.text == "€1.98", "the new state shows")
    assert [r["op"] for r in fake.requests].count("hello") == 2


@pytest.mark.parametrize("kind", ["unknown_code", "scale_fault"])
def test_alerts_only_staff_can_clear_have_no_buttons(ui: Harness, fake: FakeCartd, kind: str) -> None:
    shopping(ui, fake)
    fake.raise_alert(kind, "something", "Wait for staff.")
    banner = ui.root.ids.banner
    ui.wait_until(lambda: banner.shown, "the banner shows")
    assert banner.ids.actions.children == [] and ui.shows("Wait for staff.")


def test_a_storage_fault_is_named_on_the_start_screen_and_the_status_bar(ui: Harness, fake: FakeCartd) -> None:
    assert not ui.shows("Storage")  # the journal's disk is named only when it fails
    fake.devices["storage"] = {
        "ok": False,
        "detail": "This cart cannot save your basket. Please call a member of staff.",
    }
    fake.push()
    ui.wait_until(
        lambda: ui.shows("Storage: This cart cannot save your basket. Please call a member of staff."), "start"
    )
    shopping(ui, fake)
    bar = ui.root.ids.notice
    ui.wait_until(lambda: "Storage [color=" in bar.text and "FAULT" in bar.text, "the status bar names it")


def _walk(widget):  # type: ignore[no-untyped-def]
    yield widget
    for child in widget.children:
        yield from _walk(child)


def _draw_apple(path) -> None:  # type: ignore[no-untyped-def]
    """A small product picture (a red apple with a leaf), so the result row shows a real image."""
    import cv2
    import numpy as np

    image = np.full((96, 96, 3), 255, np.uint8)
    cv2.circle(image, (48, 54), 34, (40, 40, 200), -1, cv2.LINE_AA)
    cv2.ellipse(image, (60, 16), (14, 7), -30, 0, 360, (60, 160, 60), -1, cv2.LINE_AA)
    cv2.line(image, (48, 24), (46, 10), (30, 60, 90), 3, cv2.LINE_AA)
    assert cv2.imwrite(str(path), image)
