"""Fusion's state and the small steps every rule uses: placing, taking out, holding a change,
raising and resolving alerts. The rules themselves are in `fusion.py` and its two helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from firmware.core.basket import Alert, AlertKind, Basket, HeldChange, Unit, UnitState
from firmware.core.catalog import Catalog, UnknownCode
from firmware.core.grouping import GroupFit
from firmware.core.matching import Matcher, MatchLimits
from firmware.core.verifier import PUSH_S, RuleVerifier, Verifier
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
    grace_s: float = 5.0  # a scan may come this long after its item went in (and take its weight over)
    unexplained_s: float = 8.0  # weight nothing explains is reported this long after it settled: a
    # shopper who puts an item in first scans it within a few seconds, now and then up to ten
    prompt_s: float = 10.0  # ... and an item goes in within this long of its scan (a light one: see _fits_pending)
    place_timeout_s: float = 45.0  # scanned and nothing went in for this long: alert
    announce_window_s: float = 30.0  # a removal announced this long before its weight leaves
    answer_grace_s: float = 5.0  # an unclear removal waits this long for the shopper's answer
    return_window_s: float = 120.0  # a lifted item put back within this long returns silently
    moved_on_s: float = 30.0  # ... or this long, once the shopper has scanned something else since
    long_motion_s: float = 3.0  # a change after this much motion (pushing) may be goods shifting
    shift_rel: float = 0.003  # ... by up to this share of the basket's load, as load cells see it
    shift_min_g: float = 12.0  # ... and by this much in any basket (creep, zero drift, a settling bag)
    push_s: float = PUSH_S  # motion this long is the cart pushed (the rule verifier widens its spread then too)
    push_shift_rel: float = 0.005  # ... and shifts the load by up to this share: a 9 kg pack of water
    # sliding to another corner moves the reading by tens of grams (corner error up to 0.3 %)
    loose_g: float = 10.0  # an item the shopper names as taken out may have weighed this much more or less
    loose_rel: float = 0.15  # ... or this share of what left, whichever is more


@dataclass(frozen=True, slots=True)
class Effect:
    t: float
    kind: str  # cart.item_added, cart.item_removed, alert.raised, alert.resolved, scan.pending, ...
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class WeakClaim:
    """Weight that went in and was given to a weak story (an item lifted earlier coming back, a scan
    from long ago, a product of unknown weight): a scan just after it with a real fit takes it over."""

    t: float
    noise: float
    units: list[Unit]
    returned: bool  # the units were lifted items put back (else pending scans placed)
    alerted: list[int]  # uids of the units whose scan_not_placed alert the placement resolved


@dataclass(slots=True)
class Announcement:
    t: float
    code: str
    key: str


class FusionState:
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
        self.rise_g: float | None = None  # how far the basket read above its level while the last change moved
        self.still_since: float | None = 0.0  # when the basket last came to rest; None while it moves
        self.scale_alert: int | None = None
        self.camera_alert: int | None = None
        self.announced: list[Announcement] = []
        self._last_placement: tuple[float, list[Unit]] | None = None
        self._crept: tuple[float, float, float] | None = None  # (t, grams, noise) last taken for creep
        # (t, units with their weights before, delta, noise) of the last placement revised
        self._last_revision: tuple[float, list[tuple[Unit, float]], float, float] | None = None
        self._weak_claim: WeakClaim | None = None
        self._out: list[Effect] = []

    @property
    def verifier(self) -> Verifier:
        return self.matcher.verifier

    def _held(self, *, positive: bool) -> list[HeldChange]:
        return [h for h in self.basket.held.values() if (h.delta_g > 0) == positive]

    def _settle_held(self, held: HeldChange, t: float, why: str) -> None:
        self.basket.held.pop(held.hid, None)
        self._resolve(held.alert_id, t, why)

    def _pending_each(self) -> list[Unit]:
        pending = [u for u in self.basket.in_state(UnitState.PENDING) if u.product is not None and not u.by_weight]
        return sorted(pending, key=lambda u: -u.scanned_t)

    def _loosely_fitting(self, units: list[Unit], grams: float) -> list[Unit]:
        """Units the shopper named whose weight, as it went in, is at least loosely what left, closest
        first. Loose on purpose: the shopper knows what they took out, and a hand on the item as it
        went in may have made its weighing a few grams off."""
        cfg = self.config
        near = [u for u in units if abs((u.weight_g or 0.0) - grams) <= max(cfg.loose_g, cfg.loose_rel * grams)]
        return sorted(near, key=lambda u: abs((u.weight_g or 0.0) - grams))

    def _announced_fit(self, t: float, grams: float) -> bool:
        """Did the shopper say, a moment ago, that an item of about this weight is coming out?"""
        placed = self.basket.in_state(UnitState.PLACED)
        return any(
            self._loosely_fitting([u for u in placed if u.key == note.key], grams)
            for note in self.announced
            if t - self.matcher.settle_s - note.t <= self.config.announce_window_s
        )

    def _place(self, fit: GroupFit, t: float, *, knocked: bool = False) -> None:
        """`knocked`: the units went in knocking another lot, so what they weighed teaches nothing."""
        single_kind = len({u.key for u in fit.units}) == 1
        for unit, share in zip(fit.units, fit.shares_g, strict=True):
            unit.state, unit.weight_g, unit.placed_t, unit.verified = UnitState.PLACED, share, t, fit.verified
            unit.placed_with, unit.knocked = len(fit.units), knocked
            self._resolve(unit.alert_id, t, "it went in")
            unit.alert_id = None
            if (single_kind or not fit.verified) and not knocked:
                self.matcher.learn(unit, share)
            self._emit(
                t,
                "cart.item_added",
                uid=unit.uid,
                code=unit.code,
                weight_g=round(share, 1),
                amount_cents=unit.amount_cents(),
                verified=fit.verified,
                together=len(fit.units),
            )
        self._last_placement = (t, list(fit.units))

    def _place_unverified(self, unit: Unit, grams: float, t: float) -> None:
        """One unit in, taking all of `grams`, on a story its expected weight cannot check."""
        self._place(GroupFit([unit], 0.0, False, [grams]), t)

    def _scans_crossed(self, held: HeldChange, unit: Unit) -> bool:
        """Would pairing `held` with `unit` cross another scan? Another product was scanned before the
        weight went in (and did not fit it) or between the weight and this scan. An item whose weight
        cannot check the story (unknown weight, or produce sold by weight) claiming it then is no
        better than the usual story, that other scan's item going in with a weight unlike its own: a
        swap, so the weight stays unexplained."""
        if held.mismatch_uid is not None and held.mismatch_uid != unit.uid:
            return True
        return any(
            u is not unit and u.product is not None and held.t < u.scanned_t < unit.scanned_t
            for u in self.basket.units.values()
        )

    def _revise(self, unit: Unit, grams: float, t: float) -> None:
        """A placed unit's weight, and so its price when sold by weight, corrected."""
        self.matcher.relearn(unit, unit.weight_g or 0.0, grams)
        unit.weight_g = grams
        self._emit(
            t,
            "cart.item_revised",
            uid=unit.uid,
            code=unit.code,
            weight_g=round(grams, 1),
            amount_cents=unit.amount_cents(),
            together=unit.placed_with,
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

    def _hold_removal(self, t: float, delta_g: float, noise: float, candidates: list[GroupFit] | None = None) -> None:
        hid = self.basket.new_id()
        groups = tuple(tuple(u.uid for u in fit.units) for fit in candidates or ())
        self.basket.held[hid] = HeldChange(hid, t, delta_g, noise, t + self.config.answer_grace_s, candidates=groups)

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
