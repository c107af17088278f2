"""Remove screen: the shopper taps the item being taken out (or a pending scan to withdraw)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ListProperty
from kivy.uix.screenmanager import Screen

from cart_app.screens.lines import line_rows, pending_rows


class RemoveScreen(Screen):
    rows = ListProperty()

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().cart.bind(lines=self._refresh, pending=self._refresh)
        self._refresh()

    def refresh(self, *_args: object) -> None:
        cart = App.get_running_app().cart
        rows = line_rows(cart.lines, cart.money)
        for row in rows:
            row["detail"] = f"{row['detail']}  ·  tap if you take it out".lstrip(" ·")
        scans = pending_rows(cart.pending, cart.money)
        for row in scans:
            row["detail"] = "Not in the cart yet: tap to cancel the scan"
        self.rows = [{**row, "handler": self._picked} for row in rows + scans]

    def _picked(self, row: Any) -> None:
        App.get_running_app().link.send("remove", self._answered, code=row.code)

    def _answered(self, reply: dict[str, Any]) -> None:
        if reply.get("ok"):
            App.get_running_app().show("basket")
