"""Fusion's clock: what falls due when nothing happens (grace periods, scans nothing followed,
removals becoming final), and what checkout and the end of the session settle."""

from __future__ import annotations

from firmware.core.basket import AlertKind, HeldChange, Unit, UnitState
from firmware.core.fusion_state import FusionState


class Deadlines(FusionState):
    def next_deadline(self) -> float | None:
        """When something will fall due with no further input (an alert, a final removal)."""
        cfg = self.config
        times = [h.decide_t for h in self.basket.held.values() if h.alert_id is None]
        times += [
            self._placing_ends(u)
            for u in self.basket.in_state(UnitState.PENDING)
            if (u.alert_id is None or u.product is None) and self.still_since is not None and not self._told(u)
        ]
        times += [(u.left_t or 0.0) + cfg.return_window_s for u in self.basket.in_state(UnitState.LIFTED)]
        if self._held(positive=True):
            times += [
                u.scanned_t + (cfg.produce_wait_s if u.by_weight else cfg.resolve_delay_s)
                for u in self.basket.in_state(UnitState.PENDING)
                if not u.old_weight_checked and u.product is not None
            ]
        return min(times, default=None)

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
            if self.still_since is None:
                continue  # what went in has not settled yet
            deadline = self._placing_ends(unit)
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

    def _placing_ends(self, unit: Unit) -> float:
        """When a scan nothing followed is reported: `place_timeout_s` after it, and never while the
        basket moves (an item put in as the cart is pushed off settles only when it stops)."""
        return max(unit.scanned_t + self.config.place_timeout_s, self.still_since or 0.0)

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
                if self._scans_crossed(held, unit):
                    continue
                self._place_unverified(unit, held.delta_g, t)
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

    def _told(self, unit: Unit) -> bool:
        """Is this scan already on the screen as what a weight that went in did not fit? That
        weight_mismatch tells its story (something else went in); a scan_not_placed for the same scan
        would tell it twice. Once the mismatch is settled (the item taken out, or scanned), the scan
        nothing followed is reported as usual. (`_pending_overdue` checks it as it falls due, since a
        mismatch may be raised earlier in the same step; `next_deadline` leaves such a scan out, so a
        deadline that reports nothing is not asked for again and again.)"""
        return any(h.mismatch_uid == unit.uid and h.alert_id is not None for h in self.basket.held.values())

    def _pending_overdue(self, unit: Unit, t: float) -> None:
        if unit.product is None:  # an unknown code whose item never went in: nothing to price
            unit.state = UnitState.CANCELLED
            self._resolve(unit.alert_id, t, "nothing went in")
            return
        if self._told(unit):
            return
        unit.alert_id = self._raise(t, AlertKind.SCAN_NOT_PLACED, f"{unit.product.name} scanned; nothing went in")

    def _alert_held(self, held: HeldChange, t: float) -> None:
        grams = abs(held.delta_g)
        waiting = self.basket.units.get(held.mismatch_uid) if held.mismatch_uid is not None else None
        if held.delta_g > 0 and self._place_knocking(held, t):
            return
        if held.delta_g < 0:
            kind, detail = AlertKind.REMOVAL_UNIDENTIFIED, f"{grams:.0f} g taken out; which item was it?"
        elif waiting is not None and waiting.state is UnitState.PENDING:
            if self.matcher.piece_fits_loosely(waiting, grams):
                self._place_unverified(waiting, grams, t)
                self._settle_held(held, t, "a piece of produce far from its typical weight")
                return
            kind, detail = AlertKind.WEIGHT_MISMATCH, f"{grams:.0f} g went in; it does not fit {waiting.code}"
        else:
            kind, detail = AlertKind.UNSCANNED_ITEM, f"{grams:.0f} g went in without a scan"
        held.alert_id = self._raise(t, kind, detail)

    def _place_knocking(self, held: HeldChange, t: float) -> bool:
        """Weight that went in fitting no scan may be a scanned item that knocked a lot already in the
        basket (a heavy one shifts its reading by grams, or tens of grams)."""
        lots: dict[float, float] = {}
        for unit in self.basket.in_state(UnitState.PLACED):
            if unit.placed_t is not None and unit.placed_t < held.t:
                lots[unit.placed_t] = lots.get(unit.placed_t, 0.0) + (unit.weight_g or 0.0)
        if not lots:
            return False
        fit = self.matcher.knocked_placement(self._pending_each(), held.delta_g, held.noise_g, t, tuple(lots.values()))
        if fit is None:
            return False
        self._place(fit, t, knocked=True)
        self._settle_held(held, t, "it knocked an item already in the basket")
        return True
