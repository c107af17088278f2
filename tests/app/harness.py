"""Runs the real cart app in the test process, one Kivy frame at a time, against a fake cartd."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from cart_app.app import CartApp
from cart_app.client import Address
from cart_app.main import save_screenshot
from tests.app.fake_cartd import FakeCartd


class Harness:
    def __init__(self, fake: FakeCartd, shots: Path) -> None:
        self.fake = fake
        self.shots = shots
        self.app = CartApp(Address(path=fake.path))
        self.root = self.app.build()
        self.app.root = self.root
        Window.add_widget(self.root)
        self.app.on_start()
        self.wait_until(lambda: self.app.cart.connected and self.app.cart.seq >= 0, "the app connects")

    @property
    def cart(self):  # type: ignore[no-untyped-def]
        return self.app.cart

    def close(self) -> None:
        self.app.dispatch("on_stop")  # stops the link, and lets kv's `app` proxy forget this app
        Window.remove_widget(self.root)
        self.frames(2)

    # -- time -----------------------------------------------------------------------------------

    def frames(self, count: int = 1) -> None:
        for _ in range(count):
            EventLoop.idle()

    def wait_until(self, condition: Callable[[], object], what: str, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s} s waiting until {what}")
            EventLoop.idle()
        self.frames(2)  # let triggers and layout settle

    # -- looking --------------------------------------------------------------------------------

    def screen(self, name: str | None = None) -> Widget:
        screens = self.root.ids.screens
        return screens.get_screen(name or screens.current)

    @property
    def current(self) -> str:
        return self.root.ids.screens.current

    def texts(self, widget: Widget | None = None) -> list[str]:
        """Text of every visible label under a widget (buttons included)."""
        return [w.text for w in walk(widget or self.root) if isinstance(w, Label) and w.text and _visible(w)]

    def shows(self, text: str, widget: Widget | None = None) -> bool:
        return any(text in shown for shown in self.texts(widget))

    def button(self, text: str, widget: Widget | None = None) -> Widget:
        found = [w for w in walk(widget or self.root) if isinstance(w, Label) and w.text == text and _visible(w)]
        assert found, f"no visible {text!r}; visible: {self.texts(widget)}"
        return found[0]

    def request(self, op: str, after: int = 0, timeout_s: float = 5.0) -> dict:
        """The first request the fake got with this op, running frames meanwhile (timers fire on frames)."""
        found: list[dict] = []

        def arrived() -> bool:
            found[:] = [r for r in self.fake.requests[after:] if r.get("op") == op]
            return bool(found)

        try:
            self.wait_until(arrived, f"cartd gets a {op!r} request", timeout_s)
        except AssertionError:
            raise AssertionError(f"no {op!r} request; got {[r.get('op') for r in self.fake.requests]}") from None
        return found[0]

    # -- acting ---------------------------------------------------------------------------------

    def tap(self, widget: Widget) -> None:
        x, y = widget.to_window(*widget.center)
        assert 0 <= x < Window.width and 0 <= y < Window.height, f"{widget} is off screen at {(x, y)}"
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    def tap_text(self, text: str, widget: Widget | None = None) -> None:
        self.tap(self.button(text, widget))

    def screenshot(self, name: str) -> Path:
        self.frames(2)
        path = save_screenshot(self.shots / f"{name}.png")
        assert path is not None and path.stat().st_size > 2000, f"screenshot {name} not saved"
        return path


def walk(widget: Widget) -> Iterator[Widget]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def _visible(widget: Widget) -> bool:
    node: object = widget
    while node is not None:
        if getattr(node, "opacity", 1) == 0 or getattr(node, "height", 1) <= 0:
            return False
        parent = getattr(node, "parent", None)
        node = None if parent is node else parent  # the Window is its own parent
    return True
