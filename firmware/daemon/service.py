"""The cart service inside `cartd`: the only owner of cart state.

It runs on the daemon's event loop thread. Devices post their events here (stamped on the
monotonic clock); screens send intents through the local API; the service turns both into core
events on the session clock, feeds the pipeline (which journals them), and keeps the snapshot
that screens show. A session open in the journal when the daemon starts (a crash, a power cut)
is rebuilt and carries on.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from firmware.core.basket import AlertKind, Basket, UnitState
from firmware.core.catalog import Catalog, Product, UnknownCode
from firmware.core.events import (
    CameraFaulted,
    CameraRestored,
    CheckoutRequested,
    CodeRead,
    Event,
    FrameCaptured,
    PluKeyed,
    RemovalAnnounced,
    ScaleFaulted,
    ScaleRestored,
    ScaleSampled,
    SessionEnded,
)
from firmware.core.fusion import Effect, Phase
from firmware.core.gtin import is_plu
from firmware.core.verifier import Verifier
from firmware.core.weightbook import WeightBook
from firmware.journal import Journal, JournalError
from firmware.pipeline import CartPipeline, OutboxMaker, recover

log = logging.getLogger("cartd.service")
T = TypeVar("T")
STORAGE_FAULT = "This cart cannot save your basket. Please call a member of staff."

# a scan "not placed" whose product has no known weight, with one unit in that may have been two
TOGETHER_HINT = "If it went in together with another one, lift one out and put it back in by itself."

HINTS = {
    AlertKind.UNSCANNED_ITEM: "Scan the item you just put in, or take it out.",
    AlertKind.WEIGHT_MISMATCH: "That item does not match the scan. Take it out and scan what you put in.",
    AlertKind.SCAN_NOT_PLACED: "Put the scanned item in the basket, or cancel the scan.",
    AlertKind.UNKNOWN_CODE: "This product is unknown. Leave it out, or a staff member will price it.",
    AlertKind.REMOVAL_UNIDENTIFIED: "Which item did you take out? Pick it from the list.",
    AlertKind.SCALE_FAULT: "The scale is not working. Staff have been told; keep shopping.",
    AlertKind.CAMERA_FAULT: "The camera is not working. Type the barcode or ask staff.",
}


class IntentError(ValueError):
    """An intent the cart cannot take now (`code` says why: bad_request, wrong_state or storage_fault)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(slots=True)
class DeviceHealth:
    ok: bool = True
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail, **self.extra}


class CartService:
    def __init__(
        self,
        catalog: Catalog,
        journal: Journal,
        *,
        cart_id: str,
        currency: str = "EUR",
        verifier: Verifier | None = None,
        clock: Callable[[], float] = time.monotonic,
        outbox: OutboxMaker | None = None,
        frame_reader: Callable[[FrameCaptured], list[Event]] | None = None,
        book: WeightBook | None = None,
    ) -> None:
        self.catalog = catalog
        self.journal = journal
        self.cart_id = cart_id
        self.currency = currency
        self.verifier = verifier
        self.clock = clock
        self.outbox = outbox
        self.frame_reader = frame_reader
        self.book = book
        self.session_closed: list[Callable[[dict[str, Any]], None]] = []  # after a session ended
        self._next_catalog: Catalog | None = None
        self._search: list[tuple[str, Product]] = []
        self._search_catalog: Catalog | None = None
        self.pipeline: CartPipeline | None = None
        self.t0 = 0.0
        self.last_report: dict[str, Any] | None = None
        self.seq = 0
        # storage: the journal on the SD card (full, or remounted read-only after an ext4 error)
        self.devices = {
            "scale": DeviceHealth(),
            "camera": DeviceHealth(),
            "store": DeviceHealth(),
            "storage": DeviceHealth(),
        }
        self.effect_listeners: list[Callable[[Effect], None]] = []
        self.change_listeners: list[Callable[[], None]] = []  # something a screen shows changed
        self.samples_seen = 0
        self._idle_level_g: float | None = None
        self._shown_level_g: float | None = None
        self._resume_open_session()

    # -- sessions --------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.pipeline is None:
            return "ended" if self.last_report else "idle"
        return {Phase.SHOPPING: "shopping", Phase.CHECKOUT: "checkout", Phase.ENDED: "ended"}[
            self.pipeline.fusion.phase
        ]

    def now(self) -> float:
        return self.clock() - self.t0

    def start_session(self) -> str:
        if self.pipeline is not None:
            raise IntentError("wrong_state", f"session {self.pipeline.session_id} is still open")
        session_id = f"{self.cart_id}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        if self._next_catalog is not None:  # a new catalog applies from the next session on
            self.catalog, self._next_catalog = self._next_catalog, None
        self.t0 = self.clock()
        self.pipeline = self._journaled(lambda: self._new_pipeline(session_id))
        self.last_report = None
        self._changed()
        return session_id

    def end_session(self) -> dict[str, Any]:
        pipeline = self._require_session()

        def close() -> dict[str, Any]:
            if not pipeline.ended:  # a close that failed to write is tried again as it was
                pipeline.feed(SessionEnded(self.now()))
            return pipeline.close(outbox=self.outbox)

        report = self._journaled(close)
        self.last_report = report
        self.pipeline = None
        self._changed()
        for listener in self.session_closed:
            listener(report)
        return report

    def replace_catalog(self, catalog: Catalog) -> None:
        """A newer catalog from the store: used from the next session on (prices lock at the scan)."""
        if self.pipeline is None:
            self.catalog = catalog
        else:
            self._next_catalog = catalog

    def _new_pipeline(self, session_id: str) -> CartPipeline:
        pipeline = CartPipeline(
            self.catalog,
            session_id,
            journal=self.journal,
            cart_id=self.cart_id,
            verifier=self.verifier,
            frame_reader=self.frame_reader,
            book=self.book,
        )

        pipeline.listeners.append(self._on_effect)
        return pipeline

    def _resume_open_session(self) -> None:
        open_sessions = self.journal.open_sessions()
        if not open_sessions:
            return
        row = open_sessions[-1]
        try:
            pipeline = recover(
                self.journal,
                row.session_id,
                self.catalog,
                verifier=self.verifier,
                frame_reader=self.frame_reader,
                book=self.book,
            )
        except JournalError as exc:
            log.error("cannot carry on the open session: %s", exc)
            self.journal.abandon_session(row.session_id, str(exc))
            return
        pipeline.listeners.append(self._on_effect)
        inputs = self.journal.entries(row.session_id, "input")
        last_t = inputs[-1][0] if inputs else 0.0
        self.t0 = self.clock() - last_t  # the session clock carries on where the journal stopped
        self.pipeline = pipeline

    def _require_session(self) -> CartPipeline:
        if self.pipeline is None:
            raise IntentError("wrong_state", "no session is open: start one first")
        return self.pipeline

    # -- devices -----------------------------------------------------------------------------------

    def device_event(self, event: Event) -> None:
        """An event from a device thread, stamped on the monotonic clock."""
        if isinstance(event, ScaleSampled):
            self.samples_seen += len(event.values_g)
        if isinstance(event, ScaleFaulted | ScaleRestored):
            self.devices["scale"] = DeviceHealth(isinstance(event, ScaleRestored), getattr(event, "reason", ""))
            self._changed()
        elif isinstance(event, CameraFaulted | CameraRestored):
            self.devices["camera"] = DeviceHealth(isinstance(event, CameraRestored), getattr(event, "reason", ""))
            self._changed()
        if self.pipeline is None:
            if isinstance(event, ScaleSampled) and event.values_g:
                self._idle_level_g = sum(event.values_g) / len(event.values_g)
            return
        shifted = replace(event, t=event.t - self.t0)
        if shifted.t < 0:
            return
        try:
            self._journaled(lambda: self.pipeline.feed(shifted) if self.pipeline else None)
        except IntentError:
            return  # shown as a storage fault; the sample or scan is not acted on, as it is not journaled
        if isinstance(event, ScaleSampled):
            level = self.pipeline.weighing.level_g
            if level is not None and (self._shown_level_g is None or abs(level - self._shown_level_g) >= 1.0):
                self._shown_level_g = level
                self._changed()

    def set_device(self, name: str, health: DeviceHealth) -> None:
        self.devices[name] = health
        self._changed()

    def tick(self) -> None:
        if self.pipeline is not None:
            with contextlib.suppress(IntentError):  # shown as a storage fault
                self._journaled(lambda: self.pipeline.tick(self.now()) if self.pipeline else None)

    def _journaled(self, action: Callable[[], T]) -> T:
        """Run what writes the journal. A write that fails (the SD card full or read-only) is a storage
        fault the screens show, refused as `storage_fault`; the next write that succeeds clears it."""
        storage = self.devices["storage"]
        commits = self.journal.commits
        try:
            result = action()
        except sqlite3.Error as exc:
            if storage.ok:
                log.error("the journal cannot be written: %s", exc)
                self.set_device("storage", DeviceHealth(False, f"{STORAGE_FAULT} ({exc})"))
            raise IntentError("storage_fault", STORAGE_FAULT) from exc
        if not storage.ok and self.journal.commits > commits:
            log.warning("the journal can be written again")
            self.set_device("storage", DeviceHealth())
        return result

    # -- intents -----------------------------------------------------------------------------------

    def intent(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        if op == "start":
            return {"session_id": self.start_session()}
        if op == "end":
            if self.pipeline is not None and self.pipeline.fusion.phase is Phase.SHOPPING:
                raise IntentError("wrong_state", "ask to check out before ending the session")
            return {"report": self.end_session()}
        if op == "search":
            return {"results": self.search(_text(args, "query", allow_empty=True), int(args.get("limit", 20)))}
        pipeline = self._require_session()
        t = self.now()
        event: Event
        if op == "code":
            event = CodeRead(t, _text(args, "text"), args.get("symbology"), "keyed")
        elif op == "plu":
            plu = _text(args, "plu")
            try:
                self.catalog.lookup(plu, "plu")
            except UnknownCode as exc:
                raise IntentError("bad_request", f"unknown PLU {plu}: {exc.reason}") from None
            event = PluKeyed(t, plu)
        elif op == "remove":
            event = RemovalAnnounced(t, _text(args, "code"))
        elif op == "checkout":
            event = CheckoutRequested(t)
        else:
            raise IntentError("unknown_op", f"unknown op {op!r}")
        self._journaled(lambda: pipeline.feed(event))
        self._changed()
        return {}

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        words = query.lower().split()
        found: list[dict[str, Any]] = []
        for name, product in self._search_index():
            if all(w in name for w in words):
                found.append(
                    {
                        "code": product.code,
                        "name": product.name,
                        "price_cents": product.price_cents,
                        "sold_by": str(product.sold_by),
                        "image": None,
                    }
                )
                if len(found) >= limit:
                    break
        return found

    def _search_index(self) -> list[tuple[str, Product]]:
        """Lower-cased names, produce (PLUs) first: built once per catalog, not per keystroke."""
        if self._search_catalog is not self.catalog:
            products = sorted(self.catalog.products.values(), key=lambda p: (not is_plu(p.key), p.name))
            self._search = [(p.name.lower(), p) for p in products]
            self._search_catalog = self.catalog
        return self._search

    # -- snapshot ----------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        pipeline = self.pipeline
        scale = self.devices["scale"].to_dict()
        if pipeline is not None:
            scale["level_g"] = round(pipeline.weighing.level_g or 0.0, 1)
            scale["still"] = pipeline.weighing.is_still
        else:
            scale["level_g"] = round(self._idle_level_g or 0.0, 1)
            scale["still"] = None
        snap: dict[str, Any] = {
            "seq": self.seq,
            "state": self.state,
            "cart_id": self.cart_id,
            "session_id": pipeline.session_id if pipeline else (self.last_report or {}).get("session_id"),
            "currency": self.currency,
            "lines": [],
            "pending": [],
            "total_cents": 0,
            "alerts": [],
            "review": {"required": False, "reasons": []},
            "devices": {name: scale if name == "scale" else health.to_dict() for name, health in self.devices.items()},
            "receipt": None,
        }
        if pipeline is not None:
            basket = pipeline.fusion.basket
            snap["lines"] = [
                {**line.to_report(), "unit_price_cents": line.unit_price_cents} for line in basket.bill_lines()
            ]
            snap["pending"] = [
                {
                    "uid": u.uid,
                    "code": u.code,
                    "name": u.product.name if u.product else u.code,
                    "price_cents": u.price_cents,
                    "by_weight": u.by_weight,
                }
                for u in basket.in_state(UnitState.PENDING)
            ]
            snap["total_cents"] = basket.total_cents()
            codes, candidates = _alert_codes(basket), _removal_candidates(basket)
            snap["alerts"] = [
                {
                    "aid": a.aid,
                    "kind": str(a.kind),
                    "t": round(a.t, 1),
                    "detail": a.detail,
                    "resolved": False,
                    "hint": _hint(basket, a.aid, a.kind),
                    "code": codes.get(a.aid),
                    "candidates": candidates.get(a.aid, []),
                }
                for a in basket.open_alerts()
            ]
            snap["review"] = pipeline.review().to_report()
        elif self.last_report is not None:
            report = self.last_report
            snap["lines"] = report["items"]
            snap["total_cents"] = report["total_cents"]
            snap["review"] = report["review"]
            snap["receipt"] = {
                "session_id": report["session_id"],
                "items": report["items"],
                "total_cents": report["total_cents"],
                "review": report["review"],
                "synced": self.devices["store"].extra.get("pending", 0) == 0,
            }
        return snap

    # -- internals ---------------------------------------------------------------------------------

    def _on_effect(self, effect: Effect) -> None:
        self._changed()
        for listener in self.effect_listeners:
            listener(effect)

    def _changed(self) -> None:
        self.seq += 1
        for listener in self.change_listeners:
            listener()


def _alert_codes(basket: Basket) -> dict[int, str]:
    """The scanned code an alert is about, when it is about one (so a screen can offer to cancel it)."""
    codes = {u.alert_id: u.code for u in basket.units.values() if u.alert_id is not None}
    for held in basket.held.values():
        if held.alert_id is not None and held.mismatch_uid in basket.units:
            codes[held.alert_id] = basket.units[held.mismatch_uid].code
    return codes


def _removal_candidates(basket: Basket) -> dict[int, list[dict[str, str]]]:
    """The items a removal the cart could not identify may have been, one per product (the screen's
    buttons for the shopper's answer). They stay listed even while one of them is off the bill."""
    out: dict[int, list[dict[str, str]]] = {}
    for held in basket.held.values():
        if held.alert_id is None or not held.candidates:
            continue
        units = sorted((basket.units[uid] for group in held.candidates for uid in group), key=lambda u: u.placed_t or 0)
        named: dict[str, str] = {}
        for unit in units:  # in the order they went in, as on the bill
            named.setdefault(unit.code, unit.product.name if unit.product else unit.code)
        out[held.alert_id] = [{"code": code, "name": name} for code, name in named.items()]
    return out


def _text(args: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    value = args.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise IntentError("bad_request", f"'{key}' must be a non-empty string")
    return value


def _hint(basket: Basket, aid: int, kind: AlertKind) -> str:
    """What resolves the alert. A scan not placed of a product nobody knows the weight of, with one
    unit already in: the shopper may have put both in together, which one weighing cannot tell; one
    lifted out and put back by itself shows it (the core recounts)."""
    hint = HINTS.get(kind, "")
    if kind is not AlertKind.SCAN_NOT_PLACED:
        return hint
    unit = next((u for u in basket.units.values() if u.alert_id == aid), None)
    if unit is None or not unit.weight_unknown:
        return hint
    return f"{hint} {TOGETHER_HINT}" if basket.guessed_alone(unit.key) else hint
