"""Produce screen: a keypad for PLUs and typed barcodes, and a search by name with pictures."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

MAX_DIGITS = 14  # GTIN-14
SEARCH_DELAY_S = 0.3


def intent_for(code: str) -> tuple[str, dict[str, str]]:
    """A 4-5 digit code is a produce PLU (`plu`); anything longer is a barcode typed by hand (`code`)."""
    if code.isdigit() and 4 <= len(code) <= 5:
        return "plu", {"plu": code}
    return "code", {"text": code}


class ProduceRow(ButtonBehavior, BoxLayout):
    """One search result: picture (or placeholder), name, price; a tap adds it."""

    code = StringProperty("")
    name = StringProperty("")
    price = StringProperty("")
    picture = StringProperty("", allownone=True)
    handler = ObjectProperty(None, allownone=True)

    def on_release(self) -> None:
        if self.handler is not None:
            self.handler(self)


class ProduceScreen(Screen):
    digits = StringProperty("")
    results = ListProperty()
    searching = BooleanProperty(False)
    search_note = StringProperty("Type a name to search")
    last_query = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._search_soon = Clock.create_trigger(self.search, SEARCH_DELAY_S)

    # -- keypad ---------------------------------------------------------------------------------

    def press(self, key: str) -> None:
        if key == "clear":
            self.digits = ""
        elif key == "back":
            self.digits = self.digits[:-1]
        elif key.isdigit() and len(self.digits) < MAX_DIGITS:
            self.digits += key

    @property
    def can_add(self) -> bool:
        return len(self.digits) >= 4

    def add_keyed(self) -> None:
        if len(self.digits) >= 4:
            self.add(self.digits)

    def add(self, code: str) -> None:
        op, args = intent_for(code)
        App.get_running_app().link.send(op, self._added, **args)

    def _added(self, reply: dict[str, Any]) -> None:
        if reply.get("ok"):
            self.digits = ""
            App.get_running_app().show("basket")

    # -- search ---------------------------------------------------------------------------------

    def on_query(self, text: str) -> None:
        self.last_query = text.strip()
        self._search_soon()

    def search(self, *_args: object) -> None:
        query = self.last_query
        if not query:
            self.results = []
            self.search_note = "Type a name to search"
            return
        self.searching = True
        App.get_running_app().link.send("search", lambda reply: self._found(query, reply), query=query, limit=20)

    def _found(self, query: str, reply: dict[str, Any]) -> None:
        if query != self.last_query:
            return  # the shopper typed on; a newer search is on its way
        self.searching = False
        if not reply.get("ok"):
            self.search_note = "Search is not available right now"
            return
        cart = App.get_running_app().cart
        rows = []
        for item in (reply.get("result") or {}).get("results") or []:
            per = "/kg" if item.get("sold_by") == "weight" else ""
            rows.append(
                {
                    "code": str(item.get("code") or ""),
                    "name": str(item.get("name") or item.get("code") or "?"),
                    "price": cart.money(int(item.get("price_cents") or 0)) + per,
                    "picture": item.get("image") or "",
                    "handler": self._picked,
                }
            )
        self.results = rows
        self.search_note = "" if rows else f"Nothing found for “{query}”"

    def _picked(self, row: ProduceRow) -> None:
        self.add(row.code)
