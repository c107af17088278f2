"""What the screens show, as Kivy properties: the last cartd snapshot plus the link status.

The screens bind to these properties (in their .kv files or through triggers); nothing else holds
cart state on the app side. `apply_snapshot` only assigns, so a property whose value did not change
dispatches nothing.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from firmware.core.money import format_cents

STATES = ("idle", "shopping", "checkout", "ended")
DEVICES = ("scale", "camera", "store", "storage")  # cartd's snapshot `devices`, in the order shown


class CartState(EventDispatcher):
    connected = BooleanProperty(False)
    status_text = StringProperty("connecting…")
    cart_id = StringProperty("")
    currency = StringProperty("EUR")
    daemon_version = StringProperty("")
    seq = NumericProperty(-1)
    state = StringProperty("idle")
    session_id = StringProperty("")
    lines = ListProperty()
    pending = ListProperty()
    total_cents = NumericProperty(0)
    alerts = ListProperty()
    review = DictProperty({"required": False, "reasons": []})
    devices = DictProperty()
    receipt = ObjectProperty(None, allownone=True)
    notice = StringProperty("")  # the last refused intent, in words, for the shopper
    snapshots_applied = NumericProperty(0)

    def apply_hello(self, hello: dict[str, Any]) -> None:
        self.cart_id = str(hello.get("cart_id") or "")
        self.currency = str(hello.get("currency") or self.currency)
        self.daemon_version = str(hello.get("daemon_version") or "")

    def apply_snapshot(self, snap: dict[str, Any]) -> None:
        state = snap.get("state")
        self.seq = int(snap.get("seq", -1))
        self.state = state if state in STATES else "idle"
        self.cart_id = str(snap.get("cart_id") or self.cart_id)
        self.currency = str(snap.get("currency") or self.currency)
        self.session_id = str(snap.get("session_id") or "")
        self.lines = list(snap.get("lines") or [])
        self.pending = list(snap.get("pending") or [])
        self.total_cents = int(snap.get("total_cents") or 0)
        self.alerts = [a for a in snap.get("alerts") or [] if not a.get("resolved")]
        self.review = dict(snap.get("review") or {"required": False, "reasons": []})
        self.devices = dict(snap.get("devices") or {})
        self.receipt = snap.get("receipt")
        self.snapshots_applied += 1

    def money(self, cents: int | float | None, currency: str | None = None) -> str:
        return format_cents(int(cents or 0), currency or self.currency)

    def snapshot_view(self) -> dict[str, Any]:
        """The fields the alert guidance needs, as plain data."""
        return {"lines": list(self.lines), "pending": list(self.pending), "state": self.state}
