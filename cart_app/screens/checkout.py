"""Checkout screen: the bill to pay, what still needs resolving, then the receipt and its sync to the store."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from cart_app.screens.lines import line_rows

REASON_WORDS = {
    "unscanned_item": "an item went in without a scan",
    "weight_mismatch": "an item did not match its scan",
    "scan_not_placed": "a scan was not placed",
    "unknown_code": "a code is not in the store list",
    "removal_unidentified": "an item was taken out unnamed",
    "scale_fault": "the scale had a fault",
    "camera_fault": "the camera had a fault",
}


def sync_text(devices: dict[str, Any], receipt: dict[str, Any] | None) -> str:
    """Where the finished session stands with the store, in words."""
    store = devices.get("store") or {}
    queued = int(store.get("pending") or 0)
    if receipt is not None and receipt.get("synced"):
        return "Sent to the store"
    if not store.get("ok", True):
        detail = store.get("detail") or "store not reachable"
        return f"Waiting to send to the store ({detail})"
    if receipt is not None or queued:
        return f"Sending to the store… ({queued} queued)" if queued else "Sending to the store…"
    return ""


def review_text(review: dict[str, Any]) -> str:
    if not review.get("required"):
        return ""
    reasons = [REASON_WORDS.get(str(r), str(r).replace("_", " ")) for r in review.get("reasons") or []]
    because = f": {', '.join(reasons)}" if reasons else ""
    return f"A member of staff will check the cart{because}."


class CheckoutScreen(Screen):
    rows = ListProperty()
    heading = StringProperty("Ready to pay")
    status = StringProperty("")
    sync = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().cart.bind(
            lines=self._refresh,
            receipt=self._refresh,
            alerts=self._refresh,
            review=self._refresh,
            devices=self._refresh,
            state=self._refresh,
        )
        self._refresh()

    def refresh(self, *_args: object) -> None:
        cart = App.get_running_app().cart
        receipt = cart.receipt
        items = receipt.get("items") if receipt else cart.lines
        self.rows = line_rows(items if isinstance(items, list) else cart.lines, cart.money)
        if receipt:
            self.heading = "Receipt"
            self.status = "Thank you for shopping with us."
        else:
            self.heading = "Ready to pay"
            open_alerts = len(cart.alerts)
            first = f"Resolve the {'alert' if open_alerts == 1 else 'alerts'} above first. " if open_alerts else ""
            self.status = (first + review_text(cart.review)).strip() or "Tap Finish, then pay at the exit."
        self.sync = sync_text(cart.devices, receipt)

    def finish(self) -> None:
        App.get_running_app().link.send("end")

    def start_again(self) -> None:
        App.get_running_app().link.send("start")
