"""Fusion: pairs scans with settled weight changes and decides what the shopper is charged.

One deterministic state machine fed core events in time order (`handle`), returning effects for
the shell (screen, journal). Its rules, in the order they are tried:

- a change that follows an unexplained one within `merge_window_s` is the same handling (a hand
  let go, an item lifted after being pressed): the two are netted and decided as one;
- weight in: the pending scans (one, or several put in together) that fit; else produce keyed by
  PLU waiting for its weight; else a scan whose weight nobody knows (accepted unverified, then
  learned); else an item lifted a moment ago coming back; else the change is held for a grace
  period (`unexplained_s`), since the scan may follow the item. Still unexplained, and no waiting
  scan fits once a knock to a heavy pack already in the basket is allowed for: `weight_mismatch`
  when a scan was waiting for something else, `unscanned_item` otherwise;
- weight out: unexplained weight taken out again; the item the shopper announced; else the items
  whose weight, as measured going in, fits. If items of different prices fit equally the cart
  asks (`removal_unidentified`). A removal stays tentative for a while, so lifting an item to look
  at it and putting it back costs nothing;
- a scan nothing follows (in `place_timeout_s`, judged with the basket at rest) raises
  `scan_not_placed` and is never charged; an unknown code raises `unknown_code`, resolved unless
  its item goes in.
"""

from __future__ import annotations

from firmware.core.basket import AlertKind, HeldChange, Unit, UnitState
from firmware.core.catalog import UnknownCode
from firmware.core.events import (
    CameraFaulted,
    CameraRestored,
    CheckoutRequested,
    CodeRead,
    Event,
    PluKeyed,
    RemovalAnnounced,
    ScaleFaulted,
    ScaleMotion,
    ScaleRestored,
    SessionEnded,
    WeightSettled,
)
from firmware.core.fusion_corrections import Corrections
from firmware.core.fusion_deadlines import Deadlines
from firmware.core.fusion_state import Announcement, Effect, FusionConfig, Phase, WeakClaim, _bill_of, _Tick
from firmware.core.grouping import GroupFit
from firmware.core.gtin import is_plu

__all__ = ["Announcement", "Effect", "Fusion", "FusionConfig", "Phase"]


def _as_close(fits: list[GroupFit], grams: float, other_g: float) -> bool:
    """Does the best single-unit removal fit come as close to `grams` as `other_g` does?"""
    single = [f for f in fits if len(f.units) == 1]
    return bool(single) and abs(sum(single[0].shares_g) - grams) <= abs(other_g - grams)


class Fusion(Deadlines, Corrections):
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
        return self.handle(_Tick(t))

    @property
    def expects_empty(self) -> bool:
        return not self.basket.in_state(UnitState.PLACED) and not self.basket.held

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
        label = match.label_price_cents
        unit = Unit(
            self.basket.new_id(),
            match.product,
            text,
            label if label is not None else match.product.price_cents,
            t,
            label_price=label is not None,
        )
        self.basket.units[unit.uid] = unit
        self._emit(t, "scan.pending", uid=unit.uid, code=text, name=match.product.name, price_cents=unit.price_cents)
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            if held.alert_id is not None:
                # weight already reported as unscanned: is this the shopper rescanning it, or a new item
                # scanned before it goes in? Wait and see (`resolve_delay_s`) before pairing them.
                continue
            if unit.by_weight:
                # produce keyed just after something went in: that may be it, or the produce may be
                # about to go in; anything fits its weight, so wait (`produce_wait_s`) and see
                return
            fit = self.matcher.best_placement(self._pending_each(), held.delta_g, held.noise_g, t, must_include=unit)
            if fit is None or (not fit.verified and self._scans_crossed(held, unit)):
                continue
            self._place(fit, t)
            self._settle_held(held, t, "scanned after it went in")
            return
        if not unit.by_weight and not self._claim_crept(unit, t) and not self._retake_weak_claim(unit, t):
            self._retake_revision(unit, t)

    def _claim_crept(self, unit: Unit, t: float) -> bool:
        """A light item put in gently and scanned just after: its change looked like creep, but the
        scan's product fits it (scanned first, `_fits_pending` catches the same)."""
        if self._crept is None or t - self._crept[0] > self.config.grace_s:
            return False
        _, grams, noise = self._crept
        fit = self.matcher.best_placement(self._pending_each(), grams, noise, t, must_include=unit)
        if fit is None or not fit.verified:
            return False
        self._crept = None
        self._place(fit, t)
        return True

    def _returnable(self, t: float) -> list[Unit]:
        """Lifted units that may be coming back, latest first. A shopper who has scanned other goods
        since lifting one has moved on: weight like it much later is as likely a new, unscanned item."""
        last_scan = max((u.scanned_t for u in self.basket.units.values()), default=0.0)
        lifted = [
            u
            for u in self.basket.in_state(UnitState.LIFTED)
            if last_scan <= (u.left_t or 0.0) or t - (u.left_t or 0.0) <= self.config.moved_on_s
        ]
        return sorted(lifted, key=lambda u: -(u.left_t or 0.0))

    def _on_RemovalAnnounced(self, event: RemovalAnnounced) -> None:
        t = event.t
        key = self._key_of(event.code)
        if key is None:
            self._emit(t, "input.ignored", reason=f"{event.code} is not a product in this store")
            return
        for held in self._held(positive=False):
            named = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == key]
            # the shopper's answer, if the weight that left can be that item (a loose check: they know)
            fits = self.matcher.removal_fits(named, -held.delta_g, held.noise_g, t, max_units=1)
            chosen = fits[0].units if fits else self._loosely_fitting(named, -held.delta_g)[:1]
            if chosen:
                self._take_out(chosen, t, UnitState.REMOVED)
                self._settle_held(held, t, "the shopper said what was taken out")
                return
        lifted = [u for u in self.basket.in_state(UnitState.LIFTED) if u.key == key]
        if lifted:
            max(lifted, key=lambda u: u.left_t or 0.0).state = UnitState.REMOVED
            return
        if self._correct_recent_removal(t, key) or self._undo_recent_revision(t, key):
            return
        pending = [u for u in self.basket.in_state(UnitState.PENDING) if u.key == key]
        if pending:
            unit = max(pending, key=lambda u: u.scanned_t)
            unit.state, unit.left_t = UnitState.CANCELLED, t
            self._emit(t, "scan.cancelled", uid=unit.uid, code=unit.code)
            self._resolve(unit.alert_id, t, "scan withdrawn by the shopper")
            return
        self.announced.append(Announcement(t, event.code, key))

    def _on_ScaleMotion(self, event: ScaleMotion) -> None:
        self.still_since = None if event.moving else event.t

    def _on_WeightSettled(self, event: WeightSettled) -> None:
        self.still_since = event.t
        self.level_g = self.matcher.level_g = event.level_g
        self.matcher.settle_s = event.settle_s
        self.rise_g = event.rise_g
        t, delta, noise = event.t, event.delta_g, event.noise_g
        # a press then a release, a grasp then a lift: opposite signs; two items in a row are two items
        began = t - event.settle_s
        self.matcher.excused = self._alerted_since(began)
        held = self.basket.held.values()
        recent = [h for h in held if (h.delta_g > 0) != (delta > 0) and self._one_handling(h, began)]
        mismatch = None
        latest = max(recent, key=lambda h: h.t) if recent else None
        if latest is not None and self._removal_alone(t, delta, latest.delta_g, max(noise, latest.noise_g)):
            latest = None
        if latest is not None:  # one handling, seen as two settles: net them
            self._settle_held(latest, t, "one handling with what followed")
            delta += latest.delta_g
            mismatch = latest.mismatch_uid
            noise = max(noise, latest.noise_g)
        # a placement finishing (the hand letting go) comes before anything else, small or not
        finishing = self._last_placement is not None and t - self._last_placement[0] <= self.config.finishing_s
        if finishing and self._revise_recent_placement(t, delta, noise):
            return
        small = abs(delta) < self._shift_tolerance(event.settle_s, delta)
        if small and not self._fits_pending(t, delta, noise, event.settle_s):
            # (a gentle placement creeps in while the basket is still; a change after pushing is goods shifting)
            self._crept = (t, delta, noise) if delta > 0 and event.settle_s == 0.0 else None
            return  # the basket's contents shifting or creeping, not goods
        if self._shifted_out(delta, noise, event.settle_s):
            return
        if not finishing and self._revise_recent_placement(t, delta, noise):
            return
        if delta > 0:
            self._weight_in(t, delta, noise, mismatch)
        elif self.basket.in_state(UnitState.PLACED) or self._held(positive=True):
            self._weight_out(t, -delta, noise)
        # (weight out of a basket holding nothing: its zero moved)

    def _alerted_since(self, began: float) -> set[int]:
        """Scans reported never placed while the basket was already moving (two bottles put in and the
        cart pushed off at once settle long after): that report came too early to rule them out."""
        pending = self.basket.in_state(UnitState.PENDING)
        return {u.uid for u in pending if u.alert_id is not None and self._raised_moving(u.alert_id, began)}

    def _raised_moving(self, aid: int, began: float) -> bool:
        """Is alert `aid` still open, and was it raised after the basket began to move at `began`?"""
        alert = self.basket.alert(aid)
        return alert is not None and not alert.resolved and alert.t >= began

    def _one_handling(self, held: HeldChange, began: float) -> bool:
        """Did `held` and the change that began to move at `began` come from one handling? Counted
        from when the basket began to move: a grip that pressed an item a moment before it was lifted
        and the cart pushed off settles long after. An alert raised while the basket was already
        moving again judged too early."""
        if began - held.t > self.config.merge_window_s:
            return False
        return held.alert_id is None or self._raised_moving(held.alert_id, began)

    def _removal_alone(self, t: float, delta: float, held_g: float, noise: float) -> bool:
        """Weight out after weight in that nothing explained: a grasp and a lift (net them), or an
        unscanned item followed by another item taken out? The story whose removal fits better."""
        if delta >= 0 or delta + held_g >= 0:
            return False
        placed = self.basket.in_state(UnitState.PLACED)
        alone = self.matcher.removal_fits(placed, -delta, noise, t)
        netted = self.matcher.removal_fits(placed, -(delta + held_g), noise, t)
        return bool(alone) and (not netted or alone[0].score > netted[0].score)

    def _fits_pending(self, t: float, delta: float, noise: float, settle_s: float) -> bool:
        """A small change a light item just scanned fits is that item (a 10 g pack put in gently
        looks like creep, one in a heavy basket like goods shifting). Not when the basket began to move
        long after the scan: that is the cart pushed off, and goods shifting on the load cells."""
        if delta <= 0:
            return False
        fit = self.matcher.best_placement(self._pending_each(), delta, noise, t)
        if fit is None or not fit.verified:
            return False
        began = t - settle_s
        return settle_s == 0.0 or began - max(u.scanned_t for u in fit.units) <= self.config.prompt_s

    def _fit_keyed_before(
        self, pending: list[Unit], grams: float, noise: float, t: float, began: float
    ) -> GroupFit | None:
        """The best placement, first among scans made before this weight began to move: produce is keyed,
        then weighed, so a piece keyed while a weight was already moving is the next thing to go in, not
        part of this one (two lemons keyed one by one, the second keyed as the first settles). Failing a
        verified fit without them, all pending units (a piece put in, then keyed)."""
        early = [u for u in pending if not (is_plu(u.key) and u.scanned_t > began)]
        if len(early) < len(pending):
            fit = self.matcher.best_placement(early, grams, noise, t)
            if fit is not None and fit.verified:
                return fit
        return self.matcher.best_placement(pending, grams, noise, t)

    def _weight_in(self, t: float, grams: float, noise: float, mismatch: int | None) -> None:
        pending = self._pending_each()
        self.matcher.pending_count = len(pending)
        began = t - self.matcher.settle_s
        fit = self._fit_keyed_before(pending, grams, noise, t, began)
        produce = [u for u in self.basket.in_state(UnitState.PENDING) if u.by_weight]
        # produce keyed since the fitting scans, before this weight began to move: its weight comes first
        # (keyed while the weight was already moving, it is the next thing to go in)
        keyed_last = fit is not None and any(
            max(u.scanned_t for u in fit.units) < p.scanned_t <= began for p in produce
        )
        if fit is not None and fit.verified and not keyed_last:
            self._place_claiming(fit, t, noise)
            return
        if produce and grams <= self.config.limits.max_item_g:
            self._place_unverified(min(produce, key=lambda u: u.scanned_t), grams, t)
            return
        if fit is not None:
            self._place_claiming(fit, t, noise)
            return
        if self._recount_unknown(t, grams):
            return
        for unit in self._returnable(t):
            if unit.weight_g is not None and self.matcher.fits_grams(unit.weight_g, grams, noise):
                self._put_back(unit, t)
                self._weak_claim = WeakClaim(t, noise, [unit], True, [])
                return
        for held in self._held(positive=False):
            if self.matcher.fits_grams(-held.delta_g, grams, noise):
                self._settle_held(held, t, "the weight came back")
                return
        unknown_items = [u for u in self.basket.in_state(UnitState.PENDING) if u.product is None]
        if unknown_items:
            unit = min(unknown_items, key=lambda u: u.scanned_t)
            unit.state, unit.weight_g, unit.placed_t = UnitState.PLACED, grams, t  # uncharged: staff price it
            return
        if mismatch is None and pending:
            mismatch = pending[0].uid
        hid = self.basket.new_id()
        self.basket.held[hid] = HeldChange(hid, t, grams, noise, t + self.config.unexplained_s, mismatch_uid=mismatch)

    def _place_claiming(self, fit: GroupFit, t: float, noise: float) -> None:
        alerted = [u.uid for u in fit.units if u.alert_id is not None]
        weak = bool(alerted) or not fit.verified
        self._place(fit, t)
        self._weak_claim = WeakClaim(t, noise, list(fit.units), False, alerted) if weak else None

    def _weight_out(self, t: float, grams: float, noise: float) -> None:
        # (counted from when the basket began to move: the cart may have been pushed off before it settled)
        began = t - self.matcher.settle_s
        for note in [a for a in self.announced if began - a.t > self.config.announce_window_s]:
            self._unconfirmed_removal(note, t)
        placed = sorted(self.basket.in_state(UnitState.PLACED), key=lambda u: -(u.placed_t or 0.0))
        for note in list(self.announced):
            named = [u for u in placed if u.key == note.key]
            fits = self.matcher.removal_fits(named, grams, noise, t)
            chosen = fits[0].units if fits else self._loosely_fitting(named, grams)[:1]
            if chosen:  # the shopper said so: a loose fit is enough (a hand may have pressed it going in)
                self.announced.remove(note)
                self._take_out(chosen, t, UnitState.REMOVED)
                return
        fits = self.matcher.removal_fits(placed, grams, noise, t)
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            # unexplained weight taken out again, unless an item on the bill fits what left as well:
            # then which left is unclear, and the unexplained weight stays reported
            if self.matcher.fits_grams(held.delta_g, grams, noise) and not _as_close(fits, grams, held.delta_g):
                self._settle_held(held, t, "taken out again")
                return
        if not fits:
            if not self._recount_unknown_out(t, grams):
                self._hold_removal(t, -grams, noise)
            return
        top = fits[0]
        rivals = [f for f in fits[1:] if f.score >= top.score * self.config.ambiguous_ratio]
        if any(_bill_of(top.units) != _bill_of(f.units) for f in rivals):
            self._hold_removal(t, -grams, noise, [top, *rivals])
            return
        self._take_out(top.units, t, UnitState.LIFTED)

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
        for note in list(self.announced):
            self._unconfirmed_removal(note, event.t)
        self._flush(event.t)
        self.phase = Phase.CHECKOUT
        self._emit(event.t, "cart.checkout_requested", total_cents=self.basket.total_cents())

    def _on_SessionEnded(self, event: SessionEnded) -> None:
        for note in list(self.announced):
            self._unconfirmed_removal(note, event.t)
        self._flush(event.t)
        for unit in self.basket.in_state(UnitState.LIFTED):
            unit.state = UnitState.REMOVED
        self.phase = Phase.ENDED
        self._emit(event.t, "session.ended", total_cents=self.basket.total_cents())
