"""Basket screen: the bill lines and pending scans as they happen, the running total, and the way on."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, NumericProperty
from kivy.uix.screenmanager import Screen

from cart_app.screens.lines import line_rows, pending_rows


class BasketScreen(Screen):
    rows = ListProperty()
    empty = BooleanProperty(True)
    item_count = NumericProperty(0)
    refresh_count = NumericProperty(0)  # how often the list was rebuilt (tests check bursts coalesce)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._refresh = Clock.create_trigger(self.refresh)
        cart = App.get_running_app().cart
        cart.bind(lines=self._refresh, pending=self._refresh, currency=self._refresh)
        self._refresh()

    def refresh(self, *_args: object) -> None:
        cart = App.get_running_app().cart
        self.rows = line_rows(cart.lines, cart.money) + pending_rows(cart.pending, cart.money)
        self.empty = not self.rows
        self.item_count = sum(int(line.get("qty") or 1) for line in cart.lines)
        self.refresh_count += 1

    def pay(self) -> None:
        App.get_running_app().link.send("checkout")
