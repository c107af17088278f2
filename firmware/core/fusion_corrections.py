"""Fusion's second thoughts: a placement still finishing, small shifts of the basket, and the
shopper's word correcting a guess the cart made a moment ago."""

from __future__ import annotations

from firmware.core.basket import AlertKind, Unit, UnitState
from firmware.core.fusion_state import Announcement, FusionState
from firmware.core.grouping import GroupFit

RECOUNT_REL = 0.06  # units of one product: a change this close to a whole share of an earlier one is one unit
RECOUNT_G = 3.0  # ... or this many grams per unit (light goods)
QUICK_REMOVAL = 0.5  # odds of an item taken out within moments of another going in, against a hand letting go
# ... and how much likelier the hand must be once the placement should have finished. Modest since the
# grip evidence below tells most lifts from hands letting go (it was 20 before that evidence existed).
LATE_CORRECTION = 4.0
# A hand lifting an item out grips it first, so the basket reads heavier for a moment; a hand letting
# go of an item does not. Seen in a short motion (not a push, whose shaking reads as rises too):
GRIP_G = 8.0  # a rise this high is a grip
GRIP_MOTION_S = 3.0
GRIPPED_ODDS = 8.0  # how much likelier a weight out that showed a grip makes "an item taken out"...
UNGRIPPED_ODDS = 0.125  # ... and one that did not


class Corrections(FusionState):
    def _shift_tolerance(self, settle_s: float, delta: float) -> float:
        """Below this an unexplained change is the basket's contents shifting or creeping, not goods."""
        config = self.config
        # a push: heavy goods sliding across the load cells' corners (weight lost is held to the
        # tighter bound: an item lifted out as the cart was pushed off must not go unnoticed)
        if settle_s >= config.push_s and delta > 0:
            return max(config.shift_min_g, config.push_shift_rel * self.level_g)
        if settle_s == 0.0 or settle_s >= config.long_motion_s:  # crept while still, or after pushing
            return max(config.shift_min_g, config.shift_rel * self.level_g)
        return config.limits.drift_g

    def _shifted_out(self, delta: float, noise: float, settle_s: float) -> bool:
        """Weight lost over a long push, up to twice the usual shift, that no item in the basket
        weighs, even loosely: goods sliding onto other corners of the load cells, not a removal."""
        if delta >= 0 or settle_s < self.config.long_motion_s:
            return False
        if -delta >= 2 * self.config.shift_rel * self.level_g:
            return False
        placed = self.basket.in_state(UnitState.PLACED)
        return not self._loosely_fitting(placed, -delta) and not self.matcher.removal_fits(
            placed, -delta, noise, self.now
        )

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
        several = len(units) > 1 and all(u.verified for u in units)
        if delta < 0 and at_once and several and self._drop_extra(t, placed_t, units, revised, noise):
            return True
        # a hand on a light bag of produce, or on an item nobody knows the weight of, can weigh more
        # than the item; on packs it is less. Weight that grows is only produce finishing, not an
        # item of unknown weight: that is the next item going in
        loose = any(u.by_weight for u in units) or (delta < 0 and not all(u.verified for u in units))
        share = 0.75 if loose else (0.5 if at_once else 0.25)
        if revised <= 0 or abs(delta) > max(2 * self.config.limits.drift_g, share * total):
            return False
        score: float | None = None
        before = 1.0  # how well the placement fitted as first weighed
        if all(u.verified for u in units):
            with self.matcher.forgetting(units):  # judged against what was known before this placement
                score = self.matcher.fit(units, revised, noise, t)
                before = self.matcher.fit(units, total, noise, t) or 0.0
            needed = self.config.limits.accept_p / (100.0 if at_once else 1.0)
            if score is None or score < needed:
                return False
        confident = at_once and (score is None or score >= self.config.limits.accept_p)
        if delta < 0 and self._announced_fit(t, -delta):
            return False  # the shopper said an item is coming out, and this is its weight
        if delta < 0:  # something else taken out is a removal, not a correction...
            held_out = any(self.matcher.fits_grams(h.delta_g, -delta, noise) for h in self._held(positive=True))
            if held_out and not confident:
                return False
            others = [u for u in self.basket.in_state(UnitState.PLACED) if u not in units]
            # after produce (no expected weight), only one whole item fitting is a likelier story than the
            # hand that held the bag letting go; two or three items at once are not
            removals = self.matcher.removal_fits(others, -delta, noise, t, max_units=1 if score is None else 3)
            # ... unless the hand is still at the basket and the correction is the likelier story: it
            # mends a placement that fitted badly as first weighed, and taking another item out within
            # moments of putting one in is rare (produce has no expected weight: the hand is likelier)
            removal = removals[0].score * before * self._grip_odds() if removals else 0.0
            if removals and not self._correction_likelier(score, removal, at_once, confident):
                return False
        self._last_revision = (t, [(u, u.weight_g or 0.0) for u in units], delta, noise)
        for unit in units:
            self._revise(unit, (unit.weight_g or 0.0) * revised / total, t)
        self._retake_revised_claim(t)
        return True

    def _grip_odds(self) -> float:
        """What the way the weight left says of "another item was taken out" (against a hand letting
        go): a grip seen first makes it likelier, none makes it less likely. A long motion (the cart
        pushed) says nothing, nor does a change whose rise was not measured."""
        if self.rise_g is None or self.matcher.settle_s <= 0.0 or self.matcher.settle_s >= GRIP_MOTION_S:
            return 1.0
        return GRIPPED_ODDS if self.rise_g >= GRIP_G else UNGRIPPED_ODDS

    @staticmethod
    def _correction_likelier(score: float | None, removal: float, at_once: bool, confident: bool) -> bool:
        """A hand letting go against another item taken out: with the hand still there, the correction
        only needs to be the likelier story; a few seconds on (a hand pressing an item as it settles
        lets go up to 4 s later) it must be far likelier, and needs an expected weight to judge it by."""
        if at_once:
            return confident and (score is None or score > removal * QUICK_REMOVAL)
        return score is not None and score > removal * QUICK_REMOVAL * LATE_CORRECTION

    def _retake_weak_claim(self, unit: Unit, t: float) -> bool:
        """A fresh scan whose item fits weight that just went in and was given to a weaker story (a
        lifted item returning, a scan from long ago, a product nobody knows the weight of): the fresh
        scan is that item (most shoppers scan just before or after putting it in)."""
        claim = self._weak_claim
        if claim is None or t - claim.t > self.config.grace_s:
            return False
        if any(u.state is not UnitState.PLACED or u.placed_t != claim.t for u in claim.units if not claim.returned):
            return False
        if claim.returned and any(u.state is not UnitState.PLACED for u in claim.units):
            return False
        grams = sum(u.weight_g or 0.0 for u in claim.units)  # as revised since, if it was
        with self.matcher.forgetting([] if claim.returned else claim.units):  # what the claim itself taught
            fit = self.matcher.best_placement(self._pending_each(), grams, claim.noise, t, must_include=unit)
        if fit is None or not fit.verified:
            return False
        self._weak_claim = None
        for old in claim.units:
            if claim.returned:
                self._take_out([old], claim.t, UnitState.LIFTED)
            else:
                self._unplace(old, t, realert=old.uid in claim.alerted)
        self._place(fit, t)
        return True

    def _recount_unknown(self, t: float, grams: float) -> bool:
        """Units of a product nobody knows the weight of, scanned together: the cart took the first
        change for one unit. A later change that is that one's half (a third...) says it was two
        (three...) put in together: recount it, and this change is one more."""
        lump = self._recount_lump(t, grams)
        if lump is None:
            return False
        waiting, count = lump
        self._place_unverified(waiting[count - 1], grams, t)
        return True

    def _recount_unknown_out(self, t: float, grams: float) -> bool:
        """The same, seen as one of them is taken out (to put it in again by itself, as the cart asked,
        or back on the shelf): that weight, no item's on the bill, is a share of the first change."""
        lump = self._recount_lump(t, grams, taken_out=True)
        if lump is None:
            return False
        waiting, count = lump
        self._take_out([waiting[count - 2]], t, UnitState.LIFTED)
        return True

    def _recount_lump(self, t: float, grams: float, *, taken_out: bool = False) -> tuple[list[Unit], int] | None:
        """Recount the latest unit of unknown weight whose change is a whole number (2, 3...) of `grams`,
        from the units of its product still waiting (one more than those waiting fit when `grams` is one
        of them going in). Returns (the units waiting, the count), the first count - 1 placed with it."""
        pending = [u for u in self._pending_each() if u.weight_unknown]
        if taken_out:  # "remove" tapped for the waiting scan, then one lifted: it was the unit in the lump
            pending += sorted(self._withdrawn(t), key=lambda u: -u.scanned_t)
        for key in dict.fromkeys(u.key for u in pending):
            waiting = sorted((u for u in pending if u.key == key), key=lambda u: u.scanned_t)
            for first in sorted(self.basket.guessed_alone(key), key=lambda u: -(u.placed_t or 0.0)):
                assert first.weight_g is not None
                count = round(first.weight_g / grams)
                tolerance = max(RECOUNT_REL * first.weight_g, RECOUNT_G * count)
                if count < 2 or count > len(waiting) + taken_out or abs(first.weight_g - count * grams) > tolerance:
                    continue
                each = first.weight_g / count
                first.placed_with = count
                self._revise(first, each, t)
                extra = waiting[: count - 1]
                self._place(GroupFit(extra, 0.0, False, [each] * len(extra)), t)
                for unit in extra:  # they went in with the first, back then
                    unit.placed_t, unit.placed_with = first.placed_t, count
                return waiting, count
        return None

    def _withdrawn(self, t: float) -> list[Unit]:
        """Scans of products nobody knows the weight of that the shopper withdrew ("remove" on a scan
        still waiting) within the time a removal may be announced before its weight leaves."""
        return [
            u
            for u in self.basket.in_state(UnitState.CANCELLED)
            if u.weight_unknown and u.left_t is not None and t - u.left_t <= self.config.announce_window_s
        ]

    def _unplace(self, unit: Unit, t: float, *, realert: bool) -> None:
        """A unit the cart placed by mistake goes back to waiting for its weight (off the bill)."""
        self.matcher.unlearn(unit, unit.weight_g or 0.0)
        unit.state, unit.weight_g, unit.placed_t, unit.verified = UnitState.PENDING, None, None, False
        self._emit(t, "cart.item_removed", uid=unit.uid, code=unit.code, amount_cents=unit.amount_cents(), final=True)
        name = unit.product.name if unit.product else unit.code
        self._emit(t, "scan.pending", uid=unit.uid, code=unit.code, name=name, price_cents=unit.price_cents)
        if realert:
            unit.alert_id = self._raise(t, AlertKind.SCAN_NOT_PLACED, f"{name} scanned; nothing went in")

    def _drop_extra(self, t: float, placed_t: float, units: list[Unit], revised: float, noise: float) -> bool:
        """A hand letting go just after several units went in together: if fewer of them fit the
        weight that stayed, a light one (or a second unit of the same) took the hand's weight."""
        # (as for any placement, fewer units win unless all of them fit far better: see best_placement)
        with self.matcher.forgetting(units):
            fewer = self.matcher.best_placement(units, revised, noise, t)
        if fewer is None or not fewer.verified or len(fewer.units) >= len(units):
            return False
        for unit in units:
            if unit not in fewer.units:
                self._unplace(unit, t, realert=False)
        for unit, share in zip(fewer.units, fewer.shares_g, strict=True):
            unit.placed_with = len(fewer.units)
            self._revise(unit, share, t)
        self._last_placement = (placed_t, list(fewer.units))
        return True

    def _undo_recent_revision(self, t: float, key: str) -> bool:
        """The cart took a small loss of weight for a placement settling; the shopper now says an item
        went out: if that item's weight is what left, undo the revision and take it out instead."""
        if self._last_revision is None:
            return False
        revised_t, before, delta, _ = self._last_revision
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

    def _retake_revised_claim(self, t: float) -> None:
        """Weight given to a weak story (a scan from long ago) came to its true size only after the
        next scan (a hand let go): that scan, which did not fit it before, may fit it now."""
        claim = self._weak_claim
        if claim is None:
            return
        fresh = [u for u in self._pending_each() if u.scanned_t > claim.t]
        for unit in sorted(fresh, key=lambda u: -u.scanned_t):
            if self._retake_weak_claim(unit, t):
                return

    def _retake_revision(self, unit: Unit, t: float) -> bool:
        """Weight that went in just after produce (or an item of unknown weight) was taken for it
        finishing, with no weight to judge that by; a scan moments later whose item fits that weight
        says it was this item, put in before it was scanned: undo the revision and place the item.
        (A pack's revision was judged against its weight: the scan is then for the next item.)"""
        if self._last_revision is None:
            return False
        revised_t, before, delta, noise = self._last_revision
        if delta <= 0 or t - revised_t > self.config.grace_s:
            return False
        if any(u.state is not UnitState.PLACED for u, _ in before) or all(u.verified for u, _ in before):
            return False
        fit = self.matcher.best_placement(self._pending_each(), delta, noise, t, must_include=unit)
        if fit is None or not fit.verified:
            return False
        self._last_revision = None
        for old, weight in before:
            self._revise(old, weight, t)
        self._place(fit, t)
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
        loose = self._loosely_fitting(named, left_g)
        if not loose:
            return False
        self._put_back(guessed, t)
        self._take_out(loose[:1], t, UnitState.REMOVED)
        return True

    def _unconfirmed_removal(self, note: Announcement, t: float) -> None:
        """An item the shopper said was taken out whose weight never left (checked when the
        announcement runs out, and at checkout)."""
        if note in self.announced:
            self.announced.remove(note)
        named = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == note.key]
        if not named or self._removal_hidden_by_produce(note, t):
            return
        # the bill still charges for what the shopper says is gone: a person must look
        name = named[0].product.name if named[0].product is not None else note.code
        self._raise(t, AlertKind.REMOVAL_UNIDENTIFIED, f"{name} was said to be taken out; its weight never left")

    def _removal_hidden_by_produce(self, note: Announcement, t: float) -> bool:
        """If produce was weighed just before the shopper said an item was taken out, the item came
        out in that same settle, and the produce's weighing is short by the item's weight (a bag put
        in as a bottle is lifted out)."""
        named = [u for u in self.basket.in_state(UnitState.PLACED) if u.key == note.key and u.weight_g]
        produce = [
            u
            for u in self.basket.in_state(UnitState.PLACED)
            if u.by_weight and u.placed_with == 1 and 0.0 <= note.t - (u.placed_t or -1e9) <= self.config.grace_s
        ]
        if not named or len(produce) != 1:
            return False
        item = max(named, key=lambda u: u.placed_t or 0.0)
        bag = produce[0]
        self._revise(bag, (bag.weight_g or 0.0) + (item.weight_g or 0.0), t)
        self._take_out([item], t, UnitState.REMOVED)
        return True
