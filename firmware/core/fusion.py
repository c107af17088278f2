"""Fusion: pairs scans with settled weight changes and decides what the shopper is charged.

One deterministic state machine fed core events in time order (`handle`), returning effects for
the shell (screen, journal). Its rules, in the order they are tried:

- weight in: a pending scan (or two or three scanned together) that fits; else produce keyed by
  PLU waiting for its weight; else a scan whose weight nobody knows (accepted unverified, then
  learned); else an item lifted a moment ago coming back; else the change is held for a grace
  period, since the scan may follow the item. Still unexplained: `weight_mismatch` when a scan
  was waiting for something else, `unscanned_item` otherwise.
- weight out: the item the shopper announced; else the one item whose measured weight fits. If
  items of different prices fit equally the cart asks (`removal_unidentified`) and the
  shopper's answer resolves it; a removal is tentative for a while, so lifting an item to look
  at it and putting it back costs nothing.
- a scan nothing follows raises `scan_not_placed` and is never charged; an unknown code raises
  `unknown_code` and is resolved unless its item goes in.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from firmware.core.basket import Alert, AlertKind, Basket, HeldChange, Unit, UnitState
from firmware.core.catalog import Catalog, UnknownCode
from firmware.core.events import (
    CameraFaulted,
    CameraRestored,
    CheckoutRequested,
    CodeRead,
    Event,
    PluKeyed,
    RemovalAnnounced,
    ScaleFaulted,
    ScaleRestored,
    SessionEnded,
    WeightSettled,
)
from firmware.core.verifier import FitQuery, RuleVerifier, Verifier


class Phase(StrEnum):
    SHOPPING = "shopping"
    CHECKOUT = "checkout"  # the shopper asked to pay; alerts may still be resolved
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class FusionConfig:
    accept_p: float = 0.002  # verifier score needed to call a change a fit
    ambiguous_ratio: float = 0.1  # a second fit this close to the best makes a removal ambiguous
    grace_s: float = 5.0  # a scan may come this long after its item went in
    place_timeout_s: float = 45.0  # scanned and nothing went in for this long: alert
    announce_window_s: float = 30.0  # a removal announced this long before its weight leaves
    answer_grace_s: float = 5.0  # an unclear removal waits this long for the shopper's answer
    return_window_s: float = 120.0  # a lifted item put back within this long returns silently
    drift_g: float = 8.0  # unexplained changes below this are the basket shifting, not goods
    max_group: int = 3  # units one change may carry
    group_pool: int = 8  # most recent pending units considered for groups
    max_item_g: float = 30000.0


@dataclass(frozen=True, slots=True)
class Effect:
    t: float
    kind: str  # cart.item_added, cart.item_removed, alert.raised, alert.resolved, scan.pending, ...
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Announcement:
    t: float
    code: str
    key: str


class Fusion:
    def __init__(
        self, catalog: Catalog, verifier: Verifier | None = None, config: FusionConfig | None = None
    ) -> None:
        self.catalog = catalog
        self.verifier = verifier or RuleVerifier()
        self.config = config or FusionConfig()
        self.basket = Basket()
        self.phase = Phase.SHOPPING
        self.now = 0.0
        self.level_g = 0.0
        self.drift_ignored_g = 0.0
        self.scale_alert: int | None = None
        self.camera_alert: int | None = None
        self.announced: list[Announcement] = []
        self.learned: dict[str, list[float]] = {}
        self._out: list[Effect] = []

    # -- entry point ---------------------------------------------------------------------------

    def handle(self, event: Event) -> list[Effect]:
        self._out = []
        self._advance(event.t)
        self.now = max(self.now, event.t)
        handler = getattr(self, f"_on_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
        return self._out

    def advance(self, t: float) -> list[Effect]:
        """Let time pass with nothing happening (deadlines fire)."""
        self._out = []
        self._advance(t)
        self.now = max(self.now, t)
        return self._out

    def next_deadline(self) -> float | None:
        """When something will fall due with no further input (an alert, a final removal)."""
        cfg = self.config
        times = [h.decide_t for h in self.basket.held.values() if h.alert_id is None]
        times += [
            u.scanned_t + cfg.place_timeout_s
            for u in self.basket.in_state(UnitState.PENDING)
            if u.alert_id is None or u.product is None
        ]
        times += [(u.left_t or 0.0) + cfg.return_window_s for u in self.basket.in_state(UnitState.LIFTED)]
        return min(times, default=None)

    @property
    def expects_empty(self) -> bool:
        return not self.basket.in_state(UnitState.PLACED) and not self.basket.held

    # -- events --------------------------------------------------------------------------------

    def _on_CodeRead(self, event: CodeRead) -> None:
        self._new_unit(event.t, event.text, event.symbology)

    def _on_PluKeyed(self, event: PluKeyed) -> None:
        self._new_unit(event.t, event.plu, "plu")

    def _new_unit(self, t: float, text: str, symbology: str | None) -> None:
        try:
            match = self.catalog.lookup(text, symbology)
        except UnknownCode as exc:
            unit = Unit(self.basket.new_id(), None, text, 0, t)
            self.basket.units[unit.uid] = unit
            unit.alert_id = self._raise(t, AlertKind.UNKNOWN_CODE, f"{text}: {exc.reason}")
            return
        price = match.label_price_cents if match.label_price_cents is not None else match.product.price_cents
        unit = Unit(
            self.basket.new_id(),
            match.product,
            text,
            price,
            t,
            label_price=match.label_price_cents is not None,
        )
        self.basket.units[unit.uid] = unit
        self._emit(t, "scan.pending", uid=unit.uid, code=text, name=match.product.name, price_cents=price)
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            score = self._fit([unit], held.delta_g, held.noise_g, t)
            if unit.by_weight or score is None or score >= self.config.accept_p:
                self._place([unit], held.delta_g, t, verified=score is not None)
                self._settle_held(held, t, "scanned after it went in")
                return

    def _on_RemovalAnnounced(self, event: RemovalAnnounced) -> None:
        t = event.t
        key = self._key_of(event.code)
        if key is None:
            self._emit(t, "input.ignored", reason=f"{event.code} is not a product in this store")
            return
        for held in self._held(positive=False):
            units = [self.basket.units[u] for u in held.candidates if self.basket.units[u].key == key]
            if not units:
                units = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == key]
            if units:
                unit = max(units, key=lambda u: self._fit([u], -held.delta_g, held.noise_g, t) or 0.0)
                self._take_out([unit], t, UnitState.REMOVED)
                self._settle_held(held, t, "the shopper said what was taken out")
                return
        lifted = [u for u in self.basket.in_state(UnitState.LIFTED) if u.key == key]
        if lifted:
            max(lifted, key=lambda u: u.left_t or 0.0).state = UnitState.REMOVED
            return
        pending = [u for u in self.basket.in_state(UnitState.PENDING) if u.key == key]
        if pending:
            unit = max(pending, key=lambda u: u.scanned_t)
            unit.state = UnitState.CANCELLED
            self._emit(t, "scan.cancelled", uid=unit.uid, code=unit.code)
            self._resolve_unit_alerts(unit, t, "scan withdrawn by the shopper")
            return
        self.announced.append(Announcement(t, event.code, key))

    def _on_WeightSettled(self, event: WeightSettled) -> None:
        self.level_g = event.level_g
        if event.delta_g > 0:
            self._weight_in(event)
        else:
            self._weight_out(event)

    def _on_ScaleFaulted(self, event: ScaleFaulted) -> None:
        if self.scale_alert is None:
            self.scale_alert = self._raise(event.t, AlertKind.SCALE_FAULT, event.reason)

    def _on_ScaleRestored(self, event: ScaleRestored) -> None:
        self._resolve(self.scale_alert, event.t, "scale back")
        self.scale_alert = None

    def _on_CameraFaulted(self, event: CameraFaulted) -> None:
        if self.camera_alert is None:
            self.camera_alert = self._raise(event.t, AlertKind.CAMERA_FAULT, event.reason)

    def _on_CameraRestored(self, event: CameraRestored) -> None:
        self._resolve(self.camera_alert, event.t, "camera back")
        self.camera_alert = None

    def _on_CheckoutRequested(self, event: CheckoutRequested) -> None:
        self._flush(event.t)
        self.phase = Phase.CHECKOUT
        self._emit(event.t, "cart.checkout_requested", total_cents=self.basket.total_cents())

    def _on_SessionEnded(self, event: SessionEnded) -> None:
        self._flush(event.t)
        for unit in self.basket.in_state(UnitState.LIFTED):
            unit.state = UnitState.REMOVED
        self.phase = Phase.ENDED
        self._emit(event.t, "session.ended", total_cents=self.basket.total_cents())

    # -- weight in -----------------------------------------------------------------------------

    def _weight_in(self, event: WeightSettled) -> None:
        t, grams, noise = event.t, event.delta_g, event.noise_g
        pending = [u for u in self.basket.in_state(UnitState.PENDING) if u.product is not None]
        group = self._best_group([u for u in pending if not u.by_weight], grams, noise, t)
        if group:
            self._place(group, grams, t, verified=True)
            return
        produce = [u for u in pending if u.by_weight]
        if produce and grams <= self.config.max_item_g:
            self._place([min(produce, key=lambda u: u.scanned_t)], grams, t, verified=False)
            return
        unknown_weight = [u for u in pending if not u.by_weight and self._expected(u) is None]
        if unknown_weight and grams >= self.config.drift_g:
            self._place([min(unknown_weight, key=lambda u: u.scanned_t)], grams, t, verified=False)
            return
        lifted = self._best_group(self.basket.in_state(UnitState.LIFTED), grams, noise, t, limit=1)
        if lifted:
            self._put_back(lifted[0], t)
            return
        for held in self._held(positive=False):
            if self._fits_grams(-held.delta_g, grams, noise):
                self._settle_held(held, t, "the weight came back")
                return
        unknown_items = [u for u in self.basket.in_state(UnitState.PENDING) if u.product is None]
        if unknown_items and grams >= self.config.drift_g:
            unit = min(unknown_items, key=lambda u: u.scanned_t)
            unit.state, unit.weight_g = UnitState.PLACED, grams  # uncharged: staff must price it
            return
        if grams < self.config.drift_g:
            self.drift_ignored_g += grams
            return
        mismatch = max(pending, key=lambda u: u.scanned_t).uid if pending else None
        hid = self.basket.new_id()
        self.basket.held[hid] = HeldChange(
            hid, t, grams, noise, t + self.config.grace_s, mismatch_uid=mismatch
        )

    def _best_group(
        self, units: list[Unit], grams: float, noise: float, t: float, limit: int | None = None
    ) -> list[Unit] | None:
        pool = sorted(
            units, key=lambda u: -(u.scanned_t if u.state is UnitState.PENDING else u.left_t or 0.0)
        )
        pool = pool[: self.config.group_pool]
        best: tuple[float, int, list[Unit]] | None = None
        for size in range(1, min(limit or self.config.max_group, len(pool)) + 1):
            for combo in itertools.combinations(pool, size):
                score = self._fit(list(combo), grams, noise, t)
                if score is None or score < self.config.accept_p:
                    continue
                if best is None or score > best[0]:
                    best = (score, size, list(combo))
        return best[2] if best else None

    def _place(self, units: list[Unit], grams: float, t: float, *, verified: bool) -> None:
        share = grams / len(units)
        for unit in units:
            unit.state, unit.weight_g, unit.placed_t, unit.verified = UnitState.PLACED, share, t, verified
            self._resolve_unit_alerts(unit, t, "it went in")
            if not unit.by_weight and len({u.key for u in units}) == 1:
                self.learned.setdefault(unit.key, []).append(share)
            self._emit(
                t,
                "cart.item_added",
                uid=unit.uid,
                code=unit.code,
                weight_g=round(share, 1),
                amount_cents=unit.amount_cents(),
                verified=verified,
            )

    def _put_back(self, unit: Unit, t: float) -> None:
        unit.state, unit.left_t = UnitState.PLACED, None
        self._emit(
            t,
            "cart.item_added",
            uid=unit.uid,
            code=unit.code,
            weight_g=round(unit.weight_g or 0.0, 1),
            amount_cents=unit.amount_cents(),
            verified=True,
            returned=True,
        )

    # -- weight out ----------------------------------------------------------------------------

    def _weight_out(self, event: WeightSettled) -> None:
        t, grams, noise = event.t, -event.delta_g, event.noise_g
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            if self._fits_grams(held.delta_g, grams, noise):
                self._settle_held(held, t, "taken out again")
                return
        placed = self.basket.in_state(UnitState.PLACED)
        self.announced = [a for a in self.announced if t - a.t <= self.config.announce_window_s]
        for note in list(self.announced):
            named = [u for u in placed if u.key == note.key]
            best = self._best_group(named, grams, noise, t, limit=self.config.max_group)
            if best:
                self.announced.remove(note)
                self._take_out(best, t, UnitState.REMOVED)
                return
        fits = self._removal_fits(placed, grams, noise, t)
        if not fits:
            if grams < self.config.drift_g:
                self.drift_ignored_g -= grams
                return
            self._hold_removal(t, -grams, noise, ())
            return
        top_score, top = fits[0]
        rivals = [units for score, units in fits[1:] if score >= top_score * self.config.ambiguous_ratio]
        if any(self._bill_differs(top, other) for other in rivals):
            candidates = tuple(sorted({u.uid for _, units in fits for u in units}))
            self._hold_removal(t, -grams, noise, candidates)
            return
        self._take_out(top, t, UnitState.LIFTED)

    def _removal_fits(
        self, placed: list[Unit], grams: float, noise: float, t: float
    ) -> list[tuple[float, list[Unit]]]:
        fits: list[tuple[float, list[Unit]]] = []
        for size in (1, 2):
            for combo in itertools.combinations(placed, size):
                score = self._fit(list(combo), grams, noise, t, measured=True)
                if score is not None and score >= self.config.accept_p:
                    fits.append((score, list(combo)))
        fits.sort(key=lambda f: (-f[0], len(f[1])))
        return fits

    @staticmethod
    def _bill_differs(a: list[Unit], b: list[Unit]) -> bool:
        # twins at one price leave the same bill whichever went: no need to ask the shopper
        def charge(units: list[Unit]) -> list[int]:
            return sorted(u.amount_cents() for u in units)

        return charge(a) != charge(b)

    def _hold_removal(self, t: float, delta_g: float, noise: float, candidates: tuple[int, ...]) -> None:
        hid = self.basket.new_id()
        self.basket.held[hid] = HeldChange(
            hid, t, delta_g, noise, t + self.config.answer_grace_s, candidates=candidates
        )

    def _take_out(self, units: list[Unit], t: float, state: UnitState) -> None:
        for unit in units:
            unit.state, unit.left_t = state, t
            self._emit(
                t,
                "cart.item_removed",
                uid=unit.uid,
                code=unit.code,
                amount_cents=unit.amount_cents(),
                final=state is UnitState.REMOVED,
            )

    # -- fitting -------------------------------------------------------------------------------

    def _expected(self, unit: Unit) -> tuple[float, float | None, bool] | None:
        """(expected grams, known sd, learned?) of one unit, or None when nothing is known."""
        if unit.product is None or unit.by_weight:
            return None
        seen = self.learned.get(unit.key)
        if seen:
            return sum(seen) / len(seen), None, True
        if unit.product.weight_g is None:
            return None
        return unit.product.weight_g, unit.product.weight_sd_g, False

    def _fit(
        self, units: list[Unit], grams: float, noise: float, t: float, *, measured: bool = False
    ) -> float | None:
        expected = 0.0
        sds: list[float] = []
        learned = True
        for unit in units:
            if measured and unit.weight_g is not None:
                expected += unit.weight_g
                continue
            guess = self._expected(unit)
            if guess is None:
                return None
            expected += guess[0]
            learned &= guess[2]
            if guess[1] is not None:
                sds.append(guess[1])
        sd = (sum(s * s for s in sds) ** 0.5) if sds and len(sds) == len(units) else None
        query = FitQuery(
            measured_g=grams,
            expected_g=expected,
            expected_sd_g=sd,
            units=len(units),
            noise_g=noise,
            since_scan_s=t - max(u.scanned_t for u in units),
            basket_load_g=self.level_g,
            learned=learned,
            pending_units=len(self.basket.in_state(UnitState.PENDING)),
        )
        return self.verifier.fit(query)

    def _fits_grams(self, expected_g: float, grams: float, noise: float) -> bool:
        query = FitQuery(
            measured_g=grams, expected_g=expected_g, expected_sd_g=None, noise_g=noise, learned=True
        )
        score = self.verifier.fit(query)
        return score is not None and score >= self.config.accept_p

    # -- held changes, deadlines, alerts -----------------------------------------------------------

    def _held(self, *, positive: bool) -> list[HeldChange]:
        return [h for h in self.basket.held.values() if (h.delta_g > 0) == positive]

    def _settle_held(self, held: HeldChange, t: float, why: str) -> None:
        self.basket.held.pop(held.hid, None)
        self._resolve(held.alert_id, t, why)

    def _advance(self, t: float) -> None:
        cfg = self.config
        deadlines: list[tuple[float, int, str]] = []
        for held in self.basket.held.values():
            if held.alert_id is None and held.decide_t <= t:
                deadlines.append((held.decide_t, held.hid, "held"))
        for unit in self.basket.in_state(UnitState.PENDING):
            if (
                unit.product is not None
                and unit.scanned_t + cfg.place_timeout_s <= t
                and unit.alert_id is None
            ):
                deadlines.append((unit.scanned_t + cfg.place_timeout_s, unit.uid, "pending"))
            if unit.product is None and unit.scanned_t + cfg.place_timeout_s <= t:
                deadlines.append((unit.scanned_t + cfg.place_timeout_s, unit.uid, "unknown"))
        for unit in self.basket.in_state(UnitState.LIFTED):
            if (unit.left_t or 0.0) + cfg.return_window_s <= t:
                unit.state = UnitState.REMOVED
        for when, ident, what in sorted(deadlines):
            if what == "held":
                self._alert_held(self.basket.held[ident], when)
            elif what == "pending":
                self._alert_not_placed(self.basket.units[ident], when)
            else:  # an unknown code whose item never went in: nothing to price
                unit = self.basket.units[ident]
                unit.state = UnitState.CANCELLED
                self._resolve(unit.alert_id, when, "nothing went in")

    def _flush(self, t: float) -> None:
        for held in list(self.basket.held.values()):
            if held.alert_id is None:
                self._alert_held(held, t)
        for unit in self.basket.in_state(UnitState.PENDING):
            if unit.product is None:
                unit.state = UnitState.CANCELLED
                self._resolve(unit.alert_id, t, "nothing went in")
            elif unit.alert_id is None:
                self._alert_not_placed(unit, t)

    def _alert_held(self, held: HeldChange, t: float) -> None:
        if held.delta_g < 0:
            kind = AlertKind.REMOVAL_UNIDENTIFIED
            detail = f"{-held.delta_g:.0f} g taken out; which item was it?"
        elif (
            held.mismatch_uid is not None and self.basket.units[held.mismatch_uid].state is UnitState.PENDING
        ):
            kind = AlertKind.WEIGHT_MISMATCH
            detail = (
                f"{held.delta_g:.0f} g went in; it does not fit {self.basket.units[held.mismatch_uid].code}"
            )
        else:
            kind = AlertKind.UNSCANNED_ITEM
            detail = f"{held.delta_g:.0f} g went in without a scan"
        held.alert_id = self._raise(t, kind, detail)

    def _alert_not_placed(self, unit: Unit, t: float) -> None:
        name = unit.product.name if unit.product else unit.code
        unit.alert_id = self._raise(t, AlertKind.SCAN_NOT_PLACED, f"{name} scanned; nothing went in")

    def _resolve_unit_alerts(self, unit: Unit, t: float, why: str) -> None:
        if unit.product is not None:  # an unknown code's alert stays: staff must price the item
            self._resolve(unit.alert_id, t, why)
            unit.alert_id = None

    def _raise(self, t: float, kind: AlertKind, detail: str) -> int:
        alert = Alert(self.basket.new_id(), t, kind, detail)
        self.basket.alerts.append(alert)
        self._emit(t, "alert.raised", aid=alert.aid, alert=str(kind), detail=detail)
        return alert.aid

    def _resolve(self, aid: int | None, t: float, why: str) -> None:
        alert = self.basket.alert(aid)
        if alert is None or alert.resolved:
            return
        alert.resolved, alert.resolved_t, alert.resolution = True, t, why
        self._emit(t, "alert.resolved", aid=alert.aid, alert=str(alert.kind), why=why)

    def _key_of(self, code: str) -> str | None:
        try:
            return self.catalog.lookup(code).product.key
        except UnknownCode:
            return None

    def _emit(self, t: float, kind: str, **data: Any) -> None:
        self._out.append(Effect(t, kind, data))
