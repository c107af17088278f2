"""Small widgets every screen uses: big buttons, labels that wrap, product pictures, list rows."""

from __future__ import annotations

import os

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.relativelayout import RelativeLayout


class BigButton(Button):
    """A flat, high-contrast button at least one touch target tall."""

    tint = ListProperty([0.22, 0.36, 0.58, 1])


class WrapLabel(Label):
    """A label that wraps to its width and grows to its text."""


class ProductPicture(RelativeLayout):
    """The product's picture when cartd gives a readable path, else a lettered placeholder."""

    source = StringProperty("", allownone=True)
    name = StringProperty("")
    has_image = BooleanProperty(False)
    letter = StringProperty("?")

    def on_source(self, _widget: object, source: str | None) -> None:
        self.has_image = bool(source) and os.path.isfile(str(source))

    def on_name(self, _widget: object, name: str) -> None:
        self.letter = (name.strip()[:1] or "?").upper()


class BasketRow(BoxLayout):
    """One bill line or pending scan in a list (RecycleView view class)."""

    title = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    pending = BooleanProperty(False)


class PickRow(ButtonBehavior, BasketRow):
    """A tappable row: `code` is what a tap answers with."""

    code = StringProperty("")
    action = StringProperty("")
    picture = StringProperty("", allownone=True)
    handler = ObjectProperty(None, allownone=True)  # called with the row when tapped

    def on_release(self) -> None:
        if self.handler is not None:
            self.handler(self)
