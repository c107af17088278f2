"""The Kivy application: wires the cart state, the link to cartd and the root layout together.

Kept deliberately thin: behaviour lives in the screens, state in `CartState`, I/O in `CartLink`.
"""

from __future__ import annotations

from kivy.app import App

from cart_app.client import Address
from cart_app.link import CartLink
from cart_app.state import CartState


class CartApp(App):
    title = "Smart cart"

    def __init__(self, address: Address, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.cart = CartState()
        self.link = CartLink(address, self.cart)

    def build(self):  # type: ignore[no-untyped-def]
        from cart_app.screens import load_kv
        from cart_app.screens.root import CartRoot

        load_kv()
        return CartRoot()

    def on_start(self) -> None:
        self.link.start()

    def on_stop(self) -> None:
        self.link.stop()

    def show(self, screen: str) -> None:
        """Go to a screen (the kv files call this from buttons)."""
        if self.root is not None:
            self.root.show(screen)
