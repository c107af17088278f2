"""The bridge between the client thread and the Kivy UI thread.

The reader thread calls `deliver` for every message; messages go into a queue and one drain is
scheduled on the Kivy Clock (not one per message). The drain runs on the UI thread: it applies only
the newest snapshot of a burst to `CartState`, passes effects to listeners and runs reply callbacks.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from kivy.clock import Clock

from cart_app.client import Address, CartClient, Message, ReplyCallback
from cart_app.state import CartState

log = logging.getLogger(__name__)

NOTICE_S = 6.0  # how long a refusal stays in the status bar

ERROR_WORDS = {
    "wrong_state": "Not possible right now",
    "bad_request": "Not accepted",
    "disconnected": "The cart is reconnecting",
}


class CartLink:
    """Owns a CartClient and keeps a CartState up to date on the UI thread."""

    def __init__(self, address: Address, cart: CartState, *, client_name: str = "cart-app") -> None:
        self.cart = cart
        self.client = CartClient(address, self._deliver, client_name=client_name)
        self.effect_listeners: list[Callable[[dict[str, Any]], None]] = []
        self.ever_connected = False
        self._inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._drain_scheduled = False
        self._flag_lock = threading.Lock()
        self._forget_notice = Clock.create_trigger(self._clear_notice, NOTICE_S)

    def start(self) -> None:
        self.client.start()

    def stop(self) -> None:
        self.client.stop()

    def send(self, op: str, on_reply: ReplyCallback | None = None, **args: Any) -> bool:
        """Send an intent; a refusal is shown to the shopper through `cart.notice`. False if offline."""

        def answered(reply: dict[str, Any]) -> None:
            if reply.get("ok"):
                self.cart.notice = ""
            else:
                words = ERROR_WORDS.get(str(reply.get("code")), "Refused")
                self._say(f"{words}: {reply.get('error', '')}".rstrip(": "))
            if on_reply is not None:
                on_reply(reply)

        if self.client.request(op, answered, **args) is None:
            self._say("Not connected to the cart yet")
            return False
        return True

    def _say(self, notice: str) -> None:
        self.cart.notice = notice
        self._forget_notice.cancel()
        self._forget_notice()

    def _clear_notice(self, _dt: float = 0.0) -> None:
        self.cart.notice = ""

    # -- reader thread side ---------------------------------------------------------------------

    def _deliver(self, message: Message) -> None:
        self._inbox.put(message)
        with self._flag_lock:
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        Clock.schedule_once(self._drain, -1)  # before the next frame

    # -- UI thread side -------------------------------------------------------------------------

    def _drain(self, _dt: float = 0.0) -> None:
        with self._flag_lock:
            self._drain_scheduled = False
        batch: list[Message] = []
        while True:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        last_snapshot = max(
            (i for i, m in enumerate(batch) if m.kind == "event" and m.body.get("event") == "snapshot"), default=-1
        )
        for index, message in enumerate(batch):
            try:
                self._apply(message, newest_snapshot=index == last_snapshot)
            except Exception:  # one bad message must not take the screen down
                log.exception("could not apply %s message", message.kind)

    def _apply(self, message: Message, *, newest_snapshot: bool) -> None:
        cart = self.cart
        if message.kind == "status":
            cart.connected = message.connected
            cart.status_text = message.detail
            self.ever_connected = self.ever_connected or message.connected
        elif message.kind == "hello":
            cart.apply_hello(message.body)
        elif message.kind == "reply" and message.callback is not None:
            message.callback(message.body)
        elif message.kind == "event":
            event = message.body.get("event")
            if event == "snapshot" and newest_snapshot:
                snapshot = message.body.get("snapshot")
                if isinstance(snapshot, dict):
                    cart.apply_snapshot(snapshot)
            elif event == "effect":
                for listener in self.effect_listeners:
                    listener(message.body.get("effect") or {})
