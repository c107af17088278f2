"""Start screen: one big button that starts a session, and whether the cart's devices are ready."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.uix.screenmanager import Screen

from cart_app.state import DEVICES


def device_summary(devices: dict[str, Any]) -> str:
    """'' when every device is fine, else what is wrong, in words."""
    problems = []
    for name in DEVICES:
        device = devices.get(name) or {}
        if device and not device.get("ok", True):
            problems.append(f"{name.capitalize()}: {device.get('detail') or 'not ready'}")
    return "\n".join(problems)


class StartScreen(Screen):
    def start(self) -> None:
        App.get_running_app().link.send("start")
