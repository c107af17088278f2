"""The root layout: status bar, alert banner, the screens, and the 'connecting…' cover.

It follows cartd's state to the right screen (start, basket, checkout); the produce and remove
screens are places the shopper goes while shopping.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label

from cart_app import theme
from cart_app.state import DEVICES

SHOPPING_SCREENS = ("basket", "produce", "remove")


def screen_for(state: str, receipt: Any, current: str) -> str:
    """Which screen the cart's state calls for, keeping the shopper's own choice while shopping."""
    if receipt and state in ("idle", "ended"):
        return "checkout"
    if state == "shopping":
        return current if current in SHOPPING_SCREENS else "basket"
    if state in ("checkout", "ended"):
        return "checkout"
    return "start"


def device_markup(devices: dict[str, Any]) -> str:
    parts = []
    for name in DEVICES:
        device = devices.get(name)
        if device is None:
            continue
        good = device.get("ok", True)
        if name == "storage" and good:
            continue  # the journal's disk is named only when it fails
        colour = theme.hex_of(theme.OK if good else theme.BAD)
        parts.append(f"{name.capitalize()} [color={colour}]{'OK' if good else 'FAULT'}[/color]")
    return "   ".join(parts)


class ConnectingCover(Label):
    """Covers the screens while there is no link to cartd, and swallows touches meanwhile."""

    def on_touch_down(self, touch: Any) -> bool:
        return self.opacity > 0 and self.width > 0 and self.collide_point(*touch.pos)


class CartRoot(FloatLayout):
    screen = StringProperty("start")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        cart = App.get_running_app().cart
        cart.bind(state=self._follow, receipt=self._follow)
        self._follow()

    def _follow(self, *_args: object) -> None:
        cart = App.get_running_app().cart
        self.show(screen_for(cart.state, cart.receipt, self.ids.screens.current))

    def show(self, name: str) -> None:
        cart = App.get_running_app().cart
        if name in SHOPPING_SCREENS and cart.state != "shopping":
            name = screen_for(cart.state, cart.receipt, "")
        self.ids.screens.current = name
        self.screen = name
