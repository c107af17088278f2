"""Fusion: pairs scans with settled weight changes and decides what the shopper is charged.

One deterministic state machine fed core events in time order (`handle`), returning effects for
the shell (screen, journal). Its rules, in the order they are tried:

- a change that follows an unexplained one within `merge_window_s` is the same handling (a hand
  let go, an item lifted after being pressed): the two are netted and decided as one;
- weight in: the pending scans (one, or several put in together) that fit; else produce keyed by
  PLU waiting for its weight; else a scan whose weight nobody knows (accepted unverified, then
  learned); else an item lifted a moment ago coming back; else the change is held for a grace
  period, since the scan may follow the item. Still unexplained: `weight_mismatch` when a scan
  was waiting for something else, `unscanned_item` otherwise;
- weight out: unexplained weight taken out again; the item the shopper announced; else the items
  whose weight, as measured going in, fits. If items of different prices fit equally the cart
  asks (`removal_unidentified`). A removal stays tentative for a while, so lifting an item to look
  at it and putting it back costs nothing;
- a scan nothing follows raises `scan_not_placed` and is never charged; an unknown code raises
  `unknown_code`, resolved unless its item goes in.
"""

from __future__ import annotations

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
from firmware.core.grouping import GroupFit
from firmware.core.matching import Matcher, MatchLimits
from firmware.core.verifier import RuleVerifier, Verifier
from firmware.core.weightbook import WeightBook


class Phase(StrEnum):
    SHOPPING = "shopping"
    CHECKOUT = "checkout"  # the shopper asked to pay; alerts may still be resolved
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class FusionConfig:
    limits: MatchLimits = field(default_factory=MatchLimits)
    ambiguous_ratio: float = 0.1  # a second removal fit this close to the best makes it ambiguous
    merge_window_s: float = 5.0  # an unexplained change this recent is netted with the next one
    finishing_s: float = 2.0  # a change this soon after a placement is most likely that placement finishing
    revise_window_s: float = 4.5  # ... and one this soon may be, when nothing else explains it
    resolve_delay_s: float = 8.0  # a scan followed by no weight this long may be for weight already in
    rescan_window_s: float = 60.0  # weight reported unscanned can be claimed by a scan this long after
    produce_wait_s: float = 6.0  # produce keyed with nothing going in after: the weight just before it
    grace_s: float = 5.0  # a scan may come this long after its item went in
    place_timeout_s: float = 45.0  # scanned and nothing went in for this long: alert
    announce_window_s: float = 30.0  # a removal announced this long before its weight leaves
    answer_grace_s: float = 5.0  # an unclear removal waits this long for the shopper's answer
    return_window_s: float = 120.0  # a lifted item put back within this long returns silently
    long_motion_s: float = 3.0  # a change after this much motion (pushing) may be goods shifting
    shift_rel: float = 0.003  # ... by up to this share of the basket's load, as load cells see it
    shift_min_g: float = 12.0  # ... and by this much in any basket (creep, zero drift, a settling bag)


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
        self,
        catalog: Catalog,
        verifier: Verifier | None = None,
        config: FusionConfig | None = None,
        book: WeightBook | None = None,
    ) -> None:
        self.catalog = catalog
        self.config = config or FusionConfig()
        self.matcher = Matcher(verifier or RuleVerifier(), self.config.limits, book=book)
        self.basket = Basket()
        self.phase = Phase.SHOPPING
        self.now = 0.0
        self.level_g = 0.0
        self.drift_ignored_g = 0.0
        self.scale_alert: int | None = None
        self.camera_alert: int | None = None
        self.announced: list[Announcement] = []
        self._last_placement: tuple[float, list[Unit]] | None = None
        self._last_revision: tuple[float, list[tuple[Unit, float]], float] | None = None
        self._out: list[Effect] = []

    @property
    def verifier(self) -> Verifier:
        return self.matcher.verifier

    # -- entry points ----------------------------------------------------------------------------

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
        if self._held(positive=True):
            times += [
                u.scanned_t + (cfg.produce_wait_s if u.by_weight else cfg.resolve_delay_s)
                for u in self.basket.in_state(UnitState.PENDING)
                if not u.old_weight_checked and u.product is not None
            ]
        return min(times, default=None)

    @property
    def expects_empty(self) -> bool:
        return not self.basket.in_state(UnitState.PLACED) and not self.basket.held

    # -- scans, keyed codes, the shopper's word ------------------------------------------------------

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
            if fit is None:
                continue
            self._place(fit, t)
            self._settle_held(held, t, "scanned after it went in")
            return

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
            loose = [
                u
                for u in named
                if (self.matcher.fit([u], -held.delta_g, 1.0, t, measured=True) or 0.0)
                >= self.config.limits.accept_p / 100.0
            ]
            chosen = fits[0].units if fits else loose[:1]
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
            unit.state = UnitState.CANCELLED
            self._emit(t, "scan.cancelled", uid=unit.uid, code=unit.code)
            self._resolve(unit.alert_id, t, "scan withdrawn by the shopper")
            return
        self.announced.append(Announcement(t, event.code, key))

    def _undo_recent_revision(self, t: float, key: str) -> bool:
        """The cart took a small loss of weight for a placement settling; the shopper now says an item
        went out: if that item's weight is what left, undo the revision and take it out instead."""
        if self._last_revision is None:
            return False
        revised_t, before, delta = self._last_revision
        named = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == key]
        if delta >= 0 or t - revised_t > self.config.announce_window_s or not named:
            return False
        fits = self.matcher.removal_fits(named, -delta, 1.0, t, max_units=1)
        if not fits:
            return False
        self._last_revision = None
        for unit, weight in before:
            self.matcher.relearn(unit, unit.weight_g or 0.0, weight)
            unit.weight_g = weight
        self._take_out(fits[0].units, t, UnitState.REMOVED)
        return True

    def _correct_recent_removal(self, t: float, key: str) -> bool:
        """The shopper names what they just took out, and the cart had guessed another item: believe
        the shopper when the named item's weight fits the removal at least loosely."""
        recent = [u for u in self.basket.in_state(UnitState.LIFTED) if t - (u.left_t or 0.0) <= self.config.grace_s]
        named = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == key]
        if not recent or not named:
            return False
        guessed = max(recent, key=lambda u: u.left_t or 0.0)
        left_g = guessed.weight_g or 0.0
        best = max(named, key=lambda u: self.matcher.fit([u], left_g, 1.0, t, measured=True) or 0.0)
        score = self.matcher.fit([best], left_g, 1.0, t, measured=True)
        if score is None or score < self.config.limits.accept_p / 100.0:
            return False
        self._put_back(guessed, t)
        self._take_out([best], t, UnitState.REMOVED)
        return True

    # -- weight ------------------------------------------------------------------------------------

    def _on_WeightSettled(self, event: WeightSettled) -> None:
        self.level_g = self.matcher.level_g = event.level_g
        self.matcher.settle_s = event.settle_s
        t, delta, noise = event.t, event.delta_g, event.noise_g
        # a press then a release, a grasp then a lift: opposite signs; two items in a row are two items
        recent = [
            h
            for h in self.basket.held.values()
            if h.alert_id is None and t - h.t <= self.config.merge_window_s and (h.delta_g > 0) != (delta > 0)
        ]
        mismatch = None
        if recent:  # one handling, seen as two settles: net them
            latest = max(recent, key=lambda h: h.t)
            del self.basket.held[latest.hid]
            delta += latest.delta_g
            mismatch = latest.mismatch_uid
            noise = max(noise, latest.noise_g)
        # a placement finishing (the hand letting go) comes before anything else, small or not
        finishing = self._last_placement is not None and t - self._last_placement[0] <= self.config.finishing_s
        if finishing and self._revise_recent_placement(t, delta, noise):
            return
        if abs(delta) < self._shift_tolerance(event.settle_s):
            self.drift_ignored_g += delta
            return
        if not finishing and self._revise_recent_placement(t, delta, noise):
            return
        if delta > 0:
            self._weight_in(t, delta, noise, mismatch)
        elif not self.basket.in_state(UnitState.PLACED) and not self._held(positive=True):
            self.drift_ignored_g += delta  # nothing in the basket to take out: its zero moved
        else:
            self._weight_out(t, -delta, noise)

    def _shift_tolerance(self, settle_s: float) -> float:
        """Below this an unexplained change is the basket's contents shifting or creeping, not goods."""
        drift = self.config.limits.drift_g
        if settle_s == 0.0 or settle_s >= self.config.long_motion_s:  # crept while still, or after pushing
            return max(self.config.shift_min_g, self.config.shift_rel * self.level_g)
        return drift

    def _revise_recent_placement(self, t: float, delta: float, noise: float) -> bool:
        """A change right after a placement may be that placement finishing (a hand let go, an item
        settling, more of the same produce): revise its weight when the revised one still fits."""
        if self._last_placement is None:
            return False
        placed_t, units = self._last_placement
        if t - placed_t > self.config.revise_window_s or any(u.state is not UnitState.PLACED for u in units):
            return False
        if delta > 0:  # a pending scan that fits is a new item, not a correction
            fit = self.matcher.best_placement(self._pending_each(), delta, noise, t)
            if fit is not None and fit.verified:
                return False
        total = sum(u.weight_g or 0.0 for u in units)
        revised = total + delta
        at_once = t - placed_t <= self.config.finishing_s  # the hand that placed it is still there
        if delta > 0 and not at_once:  # later weight in is the next item, not this one growing
            return False
        if revised <= 0 or abs(delta) > max(2 * self.config.limits.drift_g, (0.5 if at_once else 0.25) * total):
            return False
        score: float | None = None
        if all(u.verified for u in units):
            for unit in units:  # judge against what was known before, not what this placement taught
                self.matcher.unlearn(unit, unit.weight_g or 0.0)
            score = self.matcher.fit(units, revised, noise, t)
            for unit in units:
                self.matcher.learn(unit, unit.weight_g or 0.0)
            needed = self.config.limits.accept_p / (100.0 if at_once else 1.0)
            if score is None or score < needed:
                return False
        confident = at_once and (score is None or score >= self.config.limits.accept_p)
        if delta < 0:  # something else taken out is a removal, not a correction...
            held_out = any(self.matcher.fits_grams(h.delta_g, -delta, noise) for h in self._held(positive=True))
            if held_out and not confident:
                return False
            others = [u for u in self.basket.in_state(UnitState.PLACED) if u not in units]
            removals = self.matcher.removal_fits(others, -delta, noise, t)
            # ... unless the hand is still at the basket and the correction fits better than any removal
            # (produce has no expected weight to judge a correction by: the hand is the likelier story)
            if removals and not (confident and (score is None or score > removals[0].score)):
                return False
        self._last_revision = (t, [(u, u.weight_g or 0.0) for u in units], delta)
        for unit in units:
            old = unit.weight_g or 0.0
            unit.weight_g = old * revised / total
            self.matcher.relearn(unit, old, unit.weight_g)
            self._emit(
                t,
                "cart.item_revised",
                uid=unit.uid,
                code=unit.code,
                weight_g=round(unit.weight_g, 1),
                amount_cents=unit.amount_cents(),
            )
        return True

    def _pending_each(self) -> list[Unit]:
        pending = [u for u in self.basket.in_state(UnitState.PENDING) if u.product is not None and not u.by_weight]
        return sorted(pending, key=lambda u: -u.scanned_t)

    def _weight_in(self, t: float, grams: float, noise: float, mismatch: int | None, *, clean: bool = True) -> None:
        pending = self._pending_each()
        self.matcher.pending_count = len(pending)
        fit = self.matcher.best_placement(pending, grams, noise, t)
        produce = [u for u in self.basket.in_state(UnitState.PENDING) if u.by_weight]
        keyed_last = (
            bool(produce)
            and fit is not None
            and max(u.scanned_t for u in produce) > max(u.scanned_t for u in fit.units)
        )
        if fit is not None and fit.verified and not keyed_last:  # (produce keyed since: its weight comes first)
            self._place(fit, t)
            return
        if clean and produce and grams <= self.config.limits.max_item_g:
            self._place(GroupFit([min(produce, key=lambda u: u.scanned_t)], 0.0, False, [grams]), t)
            return
        if clean and fit is not None:
            self._place(fit, t)
            return
        lifted = sorted(self.basket.in_state(UnitState.LIFTED), key=lambda u: -(u.left_t or 0.0))
        for unit in lifted:
            if unit.weight_g is not None and self.matcher.fits_grams(unit.weight_g, grams, noise):
                self._put_back(unit, t)
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
        self.basket.held[hid] = HeldChange(hid, t, grams, noise, t + self.config.grace_s, mismatch_uid=mismatch)

    def _place(self, fit: GroupFit, t: float) -> None:
        single_kind = len({u.key for u in fit.units}) == 1
        for unit, share in zip(fit.units, fit.shares_g, strict=True):
            unit.state, unit.weight_g, unit.placed_t, unit.verified = UnitState.PLACED, share, t, fit.verified
            unit.placed_with = len(fit.units)
            self._resolve(unit.alert_id, t, "it went in")
            unit.alert_id = None
            if single_kind or not fit.verified:
                self.matcher.learn(unit, share)
            self._emit(
                t,
                "cart.item_added",
                uid=unit.uid,
                code=unit.code,
                weight_g=round(share, 1),
                amount_cents=unit.amount_cents(),
                verified=fit.verified,
            )
        self._last_placement = (t, list(fit.units))

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

    def _weight_out(self, t: float, grams: float, noise: float) -> None:
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            if self.matcher.fits_grams(held.delta_g, grams, noise):
                self._settle_held(held, t, "taken out again")
                return
        placed = sorted(self.basket.in_state(UnitState.PLACED), key=lambda u: -(u.placed_t or 0.0))
        self.announced = [a for a in self.announced if t - a.t <= self.config.announce_window_s]
        for note in list(self.announced):
            named = [u for u in placed if u.key == note.key]
            fits = self.matcher.removal_fits(named, grams, noise, t)
            if fits:
                self.announced.remove(note)
                self._take_out(fits[0].units, t, UnitState.REMOVED)
                return
        fits = self.matcher.removal_fits(placed, grams, noise, t)
        if not fits:
            self._hold_removal(t, -grams, noise)
            return
        top = fits[0]
        rivals = [f for f in fits[1:] if f.score >= top.score * self.config.ambiguous_ratio]
        if any(_bill_of(top.units) != _bill_of(f.units) for f in rivals):
            self._hold_removal(t, -grams, noise)
            return
        self._take_out(top.units, t, UnitState.LIFTED)

    def _hold_removal(self, t: float, delta_g: float, noise: float) -> None:
        hid = self.basket.new_id()
        self.basket.held[hid] = HeldChange(hid, t, delta_g, noise, t + self.config.answer_grace_s)

    def _take_out(self, units: list[Unit], t: float, state: UnitState) -> None:
        for unit in units:
            unit.state, unit.left_t = state, t
            if unit.product is None:
                self._resolve(unit.alert_id, t, "the unknown item was taken out")
            self._emit(
                t,
                "cart.item_removed",
                uid=unit.uid,
                code=unit.code,
                amount_cents=unit.amount_cents(),
                final=state is UnitState.REMOVED,
            )

    # -- faults, checkout, end -----------------------------------------------------------------------

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

    # -- deadlines and alerts --------------------------------------------------------------------------

    def _held(self, *, positive: bool) -> list[HeldChange]:
        return [h for h in self.basket.held.values() if (h.delta_g > 0) == positive]

    def _settle_held(self, held: HeldChange, t: float, why: str) -> None:
        self.basket.held.pop(held.hid, None)
        self._resolve(held.alert_id, t, why)

    def _advance(self, t: float) -> None:
        cfg = self.config
        due: list[tuple[float, int, str]] = []
        for held in self.basket.held.values():
            if held.alert_id is None and held.decide_t <= t:
                due.append((held.decide_t, held.hid, "held"))
        for unit in self.basket.in_state(UnitState.PENDING):
            late = unit.scanned_t + (cfg.produce_wait_s if unit.by_weight else cfg.resolve_delay_s)
            if not unit.old_weight_checked and unit.product is not None and late <= t:
                due.append((late, unit.uid, "old-weight"))
            deadline = unit.scanned_t + cfg.place_timeout_s
            if deadline <= t and (unit.alert_id is None or unit.product is None):
                due.append((deadline, unit.uid, "pending"))
        for unit in self.basket.in_state(UnitState.LIFTED):
            if (unit.left_t or 0.0) + cfg.return_window_s <= t:
                unit.state = UnitState.REMOVED
        for when, ident, what in sorted(due):
            if what == "held":
                if ident in self.basket.held:
                    self._alert_held(self.basket.held[ident], when)
            elif self.basket.units[ident].state is UnitState.PENDING:
                if what == "old-weight":
                    self._pair_with_old_weight(self.basket.units[ident], when)
                else:
                    self._pending_overdue(self.basket.units[ident], when)

    def _pair_with_old_weight(self, unit: Unit, t: float) -> bool:
        """A scan nothing followed: it may be the shopper scanning an item that went in unscanned."""
        unit.old_weight_checked = True
        for held in sorted(self._held(positive=True), key=lambda h: -h.t):
            if held.alert_id is None and not unit.by_weight:
                continue
            if t - held.t > self.config.rescan_window_s:
                continue  # a shopper fixing an alert scans while it is on the screen, not minutes later
            if unit.by_weight:
                if t - held.t > self.config.produce_wait_s + self.config.grace_s:
                    continue  # only weight that went in about when it was keyed can be the produce
                self._place(GroupFit([unit], 0.0, False, [held.delta_g]), t)
                self._settle_held(held, t, "keyed after it went in")
                return True
            fit = self.matcher.best_placement(self._pending_each(), held.delta_g, held.noise_g, t, must_include=unit)
            if fit is not None and fit.verified:  # an unknown weight proves nothing about old weight
                self._place(fit, t)
                self._settle_held(held, t, "scanned after it went in")
                return True
        return False

    def _flush(self, t: float) -> None:
        for held in list(self.basket.held.values()):
            if held.alert_id is None:
                self._alert_held(held, t)
        for unit in sorted(self.basket.in_state(UnitState.PENDING), key=lambda u: u.scanned_t):
            if unit.product is not None and unit.state is UnitState.PENDING and not unit.old_weight_checked:
                self._pair_with_old_weight(unit, t)
        for unit in self.basket.in_state(UnitState.PENDING):
            if unit.alert_id is None or unit.product is None:
                self._pending_overdue(unit, t)

    def _pending_overdue(self, unit: Unit, t: float) -> None:
        if unit.product is None:  # an unknown code whose item never went in: nothing to price
            unit.state = UnitState.CANCELLED
            self._resolve(unit.alert_id, t, "nothing went in")
            return
        unit.alert_id = self._raise(t, AlertKind.SCAN_NOT_PLACED, f"{unit.product.name} scanned; nothing went in")

    def _alert_held(self, held: HeldChange, t: float) -> None:
        grams = abs(held.delta_g)
        waiting = self.basket.units.get(held.mismatch_uid) if held.mismatch_uid is not None else None
        if held.delta_g < 0:
            kind, detail = AlertKind.REMOVAL_UNIDENTIFIED, f"{grams:.0f} g taken out; which item was it?"
        elif waiting is not None and waiting.state is UnitState.PENDING:
            kind, detail = AlertKind.WEIGHT_MISMATCH, f"{grams:.0f} g went in; it does not fit {waiting.code}"
        else:
            kind, detail = AlertKind.UNSCANNED_ITEM, f"{grams:.0f} g went in without a scan"
        held.alert_id = self._raise(t, kind, detail)

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


@dataclass(frozen=True, slots=True)
class _Tick:
    t: float


def _bill_of(units: list[Unit]) -> list[int]:
    """What taking these units out does to the bill: twins at one price leave the same bill."""
    return sorted(u.amount_cents() for u in units)
