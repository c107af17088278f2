"""Fitting weight changes to units: what each unit should weigh, and which group of units fits best.

What a unit should weigh comes, best first, from this session's own placements of the same
product (learned), then the catalog (weight and its spread). Removals are fitted against what each
unit actually weighed when it went in. The verifier (rule or model) turns each comparison into a
score; this module only decides which candidates to ask it about.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from firmware.core.basket import Unit
from firmware.core.grouping import GroupFit, sub_multisets
from firmware.core.gtin import is_plu, same_maker
from firmware.core.verifier import FitQuery, Verifier
from firmware.core.weightbook import WeightBook

UNIT_SCATTER = 0.02  # relative sd of a packed unit's weight (for shares of a group)
CATALOG_ERROR = 0.025  # relative sd of a catalog weight against the product's true mean
PRODUCE_SCATTER = 0.3  # ... of a piece of produce
MEASURED_SD_G = 0.5  # a unit weighed on its own: known to about this
TRIPLES_POOL = 15  # three units taken out at once: looked for among this many most recent
FEW_AGREEING = 2.0  # weighings that teach a product the catalog gives no weight, if they agree
AGREEING_REL = 0.08  # ... within this relative spread
WELL_KNOWN_N = 10.0  # observations after which a learned weight is as good as a measurement
PROMPT_S = 20.0  # most items go in within this long of their scan
STALE = 0.01  # placement prior of a scan so old (~2 min) that a fresh one of unknown weight is likelier
PIECE_SD_LISTED_LOW = 1.25  # a store's listed spread of produce pieces is an estimate, often low
PIECE_BAG_G = 20.0  # a piece of produce may go in in a bag (a paper one weighs up to this)
PIECE_ODDS = 3.0  # one piece stands unless two are this many times likelier (a shopper keys the count)
OCCAM = 20.0  # a group holding a smaller fitting one must fit this many times better to win


def _within(small: list[Unit], large: list[Unit]) -> bool:
    """Is `small` a sub-multiset of `large` (by product and price)?"""
    need = Counter((u.key, u.price_cents) for u in small)
    have = Counter((u.key, u.price_cents) for u in large)
    return all(have[k] >= n for k, n in need.items())


@dataclass(frozen=True, slots=True)
class MatchLimits:
    accept_p: float = 0.002  # verifier score needed to call a change a fit
    place_p: float = 0.0002  # ... units of one packed product going in (see `Matcher._needed`)
    max_units: int = 12  # units one change may carry
    drift_g: float = 8.0  # smallest share an unweighed product may take
    max_item_g: float = 30000.0


@dataclass(slots=True)
class Matcher:
    verifier: Verifier
    limits: MatchLimits = field(default_factory=MatchLimits)
    learned: dict[str, list[float]] = field(default_factory=dict)
    book: WeightBook | None = None  # weights learned in earlier sessions
    level_g: float = 0.0  # the basket's load and how the change settled: context for the verifier
    settle_s: float = 0.0
    lumps_g: tuple[float, ...] = ()  # lots in the basket a placement may have knocked (a last resort only)
    pending_count: int = 0
    excused: set[int] = field(default_factory=set)  # scans reported never placed while this change was moving in

    def expected(self, unit: Unit) -> tuple[float, float | None, bool] | None:
        """(grams, known spread, learned?) one unit should weigh, or None when nothing is known:
        this session's own placements first, then what the cart learned before, then the catalog."""
        if unit.product is None or unit.by_weight:
            return None
        prior = self._prior(unit)
        seen = self.learned.get(unit.key)
        if not seen:
            return prior[:3] if prior is not None else None
        if prior is None:
            return sum(seen) / len(seen), None, True
        # this session's units of the product, shrunk toward what was known: one unit that came out
        # 5 % heavy says the product runs a little heavy, not that the next unit will weigh the same
        mean, unit_sd, _, mean_sd = prior
        unit_var = (unit_sd if unit_sd is not None else UNIT_SCATTER * mean) ** 2
        precision = 1.0 / max(mean_sd, 0.5) ** 2 + len(seen) / unit_var
        posterior = (mean / max(mean_sd, 0.5) ** 2 + sum(seen) / unit_var) / precision
        return posterior, unit_sd, True

    def _prior(self, unit: Unit) -> tuple[float, float | None, bool, float] | None:
        """(grams, known unit spread, well known?, how far off the grams may be) before this session."""
        assert unit.product is not None
        if self.book is not None and not is_plu(unit.key):  # produce pieces differ too much to learn one
            known = self.book.estimate(unit.key) if unit.product.weight_g is not None else self._agreed(unit.key)
            if known is not None:  # its spread says how well it is known; trusted like a measurement once well known
                return known[0], known[1], known[2] >= WELL_KNOWN_N, known[1] / math.sqrt(known[2])
        if unit.product.weight_g is None:
            return None
        weight = unit.product.weight_g
        return weight, unit.product.weight_sd_g, False, CATALOG_ERROR * weight

    def _agreed(self, key: str) -> tuple[float, float, float] | None:
        """A product the catalog gives no weight: two settled weighings that agree are far better than
        nothing. One is not enough: a swap nobody noticed would teach the wrong weight."""
        assert self.book is not None
        known = self.book.estimate(key, FEW_AGREEING)
        if known is None or known[1] > AGREEING_REL * known[0]:
            return None
        return known

    def learn(self, unit: Unit, grams: float) -> None:
        if unit.product is not None and not unit.by_weight:
            self.learned.setdefault(unit.key, []).append(grams)

    def unlearn(self, unit: Unit, grams: float) -> None:
        seen = self.learned.get(unit.key)
        if seen and grams in seen:
            seen.remove(grams)

    def relearn(self, unit: Unit, old_g: float, new_g: float) -> None:
        seen = self.learned.get(unit.key)
        if seen and old_g in seen:
            seen[seen.index(old_g)] = new_g

    @contextmanager
    def forgetting(self, units: list[Unit]) -> Iterator[None]:
        """Judge without what these placed units taught this session (their own weighings)."""
        for unit in units:
            self.unlearn(unit, unit.weight_g or 0.0)
        try:
            yield
        finally:
            for unit in units:
                self.learn(unit, unit.weight_g or 0.0)

    def fit(self, units: list[Unit], grams: float, noise: float, t: float, *, measured: bool = False) -> float | None:
        expected = 0.0
        sds: list[float] = []
        learned = True
        produce = any(u.product is not None and is_plu(u.product.key) for u in units)
        unknown_sd = 0
        for unit in units:
            scatter = PRODUCE_SCATTER if unit.product is not None and is_plu(unit.product.key) else UNIT_SCATTER
            if measured and unit.weight_g is not None:
                expected += unit.weight_g
                # weighed alone it is known to the gram; as a share of several, only roughly
                sds.append(max(MEASURED_SD_G, scatter * unit.weight_g if unit.placed_with > 1 else 0.0))
                continue
            guess = self.expected(unit)
            if guess is None:
                return None
            expected += guess[0]
            learned &= guess[2]
            unknown_sd += guess[1] is None
            # (a unit whose spread nobody gave scatters as its kind does: a pack a little, a lemon a lot)
            sds.append(guess[1] if guess[1] is not None else scatter * guess[0])
        # the verifier assumes its own scatter when no unit's spread is given; a group mixing given
        # and assumed spreads (produce and packs) carries them unit by unit
        sd = None if unknown_sd == len(units) else sum(s * s for s in sds) ** 0.5
        query = FitQuery(
            measured_g=grams,
            expected_g=expected,
            expected_sd_g=sd,
            units=len(units),
            noise_g=noise,
            since_scan_s=t - max(u.scanned_t for u in units),
            basket_load_g=self.level_g,
            settle_s=self.settle_s,
            learned=learned,
            produce=produce,
            pending_units=self.pending_count,
            measured=measured and all(u.weight_g is not None for u in units),
            lumps_g=self.lumps_g,
        )
        return self.verifier.fit(query)

    def piece_fits_loosely(self, unit: Unit, grams: float) -> bool:
        """A piece of produce sold each, judged loosely before weight that went in after it is called a
        mismatch: pieces scatter log-normally (a cabbage half again its typical weight is far likelier
        than one of half of it), the store's listed spread is an estimate, and the piece may be bagged.
        Only a last resort (as a fit it would take two lemons for one), and only when two pieces are
        not far likelier than the one the shopper keyed."""
        product = unit.product
        if product is None or unit.by_weight or not is_plu(unit.key):
            return False
        if product.weight_g is None or product.weight_sd_g is None:
            return False
        one, one_sd = _pieces_z(product.weight_g, product.weight_sd_g, 1, grams)
        two, two_sd = _pieces_z(product.weight_g, product.weight_sd_g, 2, grams)
        if math.erfc(one / math.sqrt(2.0)) < self.limits.accept_p:
            return False
        return PIECE_ODDS * math.exp(-(one**2) / 2.0) / one_sd >= math.exp(-(two**2) / 2.0) / two_sd

    def knocked_placement(
        self, units: list[Unit], grams: float, noise: float, t: float, lumps_g: tuple[float, ...]
    ) -> GroupFit | None:
        """The pending units that fit `grams` if putting them in knocked one of `lumps_g` (the lots
        already in the basket) to where the load cells read it differently. A last resort before an
        alert: it would let a hand still pressing pass as a fit, and a heavy lot may shift by tens of
        grams, so the fit must reach `accept_p` on its own."""
        self.lumps_g = lumps_g
        try:
            fit = self.best_placement(units, grams, noise, t)
        finally:
            self.lumps_g = ()
        return fit if fit is not None and fit.verified and fit.score >= self.limits.accept_p else None

    def fits_grams(self, expected_g: float, grams: float, noise: float) -> bool:
        query = FitQuery(
            measured_g=grams,
            expected_g=expected_g,
            expected_sd_g=None,
            noise_g=noise,
            learned=True,
            basket_load_g=self.level_g,
        )
        score = self.verifier.fit(query)
        return score is not None and score >= self.limits.accept_p

    def best_placement(
        self, units: list[Unit], grams: float, noise: float, t: float, must_include: Unit | None = None
    ) -> GroupFit | None:
        """The group of pending units (newest first) that best explains `grams` going in.

        Fits are ranked by the verifier's score times how likely each unit is to go in now (a scan
        from long ago less so). Of two fitting groups where one holds the other, the smaller wins
        unless the larger fits far better: the weight cannot tell whether a light extra went in too,
        and a unit left out is never charged. Failing any verified fit (or any but scans from minutes
        ago), a group with exactly one product of unknown weight whose units take what the known ones
        leave (each >= `drift_g`): the fewest units, unless a larger group's unknown share weighs what
        a known unit of the same maker does (flavours of one range put in together).
        """
        fits: list[tuple[float, GroupFit]] = []
        unverified: list[GroupFit] = []
        for group in sub_multisets(units, self.limits.max_units):
            if must_include is not None and not any(u.key == must_include.key for u in group):
                continue
            if len({u.key for u in group}) > 1 and any(
                u.alert_id is not None and u.uid not in self.excused for u in group
            ):
                continue  # a scan already reported as never placed goes in on its own, not as a light extra
            score = self.fit(group, grams, noise, t)
            if score is None:
                candidate = self._unverified(group, grams)
                if candidate is not None:
                    unverified.append(candidate)
            elif score >= self._needed(group):
                fits.append(
                    (score * self._group_prior(group, t), GroupFit(group, score, True, self._shares(group, grams)))
                )
        fallback = min(
            unverified, key=lambda f: (not self._like_a_twin(f, noise, t), len(f.units)), default=None
        )  # (the first of equals: newest scans first)
        if fallback is not None and self._group_prior(fallback.units, t) >= STALE:
            # a fresh scan of a product nobody knows the weight of is a likelier story than a scan
            # from minutes ago that happens to weigh the same
            fits = [f for f in fits if self._group_prior(f[1].units, t) >= STALE]
        if not fits:
            return fallback
        fits.sort(key=lambda f: (-f[0], len(f[1].units)))
        best_weight, best = fits[0]
        for weight, fit in fits[1:]:
            smaller = len(fit.units) < len(best.units) and _within(fit.units, best.units)
            if smaller and weight * self._occam(best) >= best_weight:
                best_weight, best = weight, fit
        return best

    @staticmethod
    def _occam(group: GroupFit) -> float:
        """How much better a group must fit than a smaller one within it. Not for pieces of one produce
        keyed one by one: they scatter too widely for an extra piece to be a light item soaking up a
        hand, so the better fit wins."""
        keys = {u.key for u in group.units}
        if len(keys) == 1 and is_plu(group.units[0].key) and not group.units[0].by_weight:
            return 1.0
        return OCCAM

    def _needed(self, group: list[Unit]) -> float:
        """The score a placement needs. Units of one packed product may be looser than other fits: a
        pack is a few % off its catalog weight at worst, a swap >= 30 %. Not produce (pieces scatter
        far more), nor a mix of products (a light extra would soak up a hand still pressing)."""
        if len({u.key for u in group}) == 1 and not is_plu(group[0].key):
            return self.limits.place_p
        return self.limits.accept_p

    def _group_prior(self, group: list[Unit], t: float) -> float:
        return math.prod(self._placement_prior(unit, t) for unit in group)

    @staticmethod
    def _placement_prior(unit: Unit, t: float) -> float:
        """Items mostly go in within seconds of their scan; one scanned long ago is less likely now."""
        waited = t - unit.scanned_t
        return 1.0 if waited <= PROMPT_S else math.exp(-(waited - PROMPT_S) / PROMPT_S)

    def _shares(self, group: list[Unit], grams: float) -> list[float]:
        """Each unit's part of a change, in proportion to what it should weigh."""
        expected = [(self.expected(u) or (grams / len(group),))[0] for u in group]
        total = sum(expected)
        return [grams * e / total for e in expected] if total > 0 else [grams / len(group)] * len(group)

    def _unverified(self, group: list[Unit], grams: float) -> GroupFit | None:
        unknown = [u for u in group if self.expected(u) is None]
        if not unknown or len({u.key for u in unknown}) != 1:
            return None
        known = [u for u in group if u not in unknown]
        known_g = [self.expected(u)[0] for u in known]  # type: ignore[index]
        share = (grams - sum(known_g)) / len(unknown)
        if not self.limits.drift_g <= share <= self.limits.max_item_g:
            return None
        shares = [known_g[known.index(u)] if u in known else share for u in group]
        return GroupFit(group, 0.0, False, shares)

    def _like_a_twin(self, fit: GroupFit, noise: float, t: float) -> bool:
        """Does the unknown product's share weigh what a unit of the same maker in the group weighs?
        Flavours of one range scanned and put in together: a likelier story than the unknown one
        alone weighing as much as all of them (a stranger's weight matching is mere chance)."""
        known = [u for u in fit.units if self.expected(u) is not None]
        unknown, share = next((u, g) for u, g in zip(fit.units, fit.shares_g, strict=True) if u not in known)
        return any(
            same_maker(u.key, unknown.key) and (self.fit([u], share, noise, t) or 0.0) >= self.limits.accept_p
            for u in known
        )

    def removal_fits(
        self, placed: list[Unit], grams: float, noise: float, t: float, max_units: int = 3
    ) -> list[GroupFit]:
        """Groups of placed units whose weights, as measured going in, fit `grams` leaving; best first.

        Units of one product are not interchangeable here: each weighed what it weighed. Singles and
        pairs are tried among all units, triples among the most recently placed.
        """
        newest = sorted(placed, key=lambda u: -(u.placed_t or 0.0))
        fits: list[GroupFit] = []
        for size in range(1, max_units + 1):
            pool = newest if size <= 2 else newest[:TRIPLES_POOL]
            for combo in itertools.combinations(pool, size):
                group = list(combo)
                score = self.fit(group, grams, noise, t, measured=True)
                if score is not None and score >= self.limits.accept_p:
                    # one item out at a time is the rule; two or three at once must fit far better
                    fits.append(GroupFit(group, score / OCCAM ** (size - 1), True, [u.weight_g or 0.0 for u in group]))
        fits.sort(key=lambda f: (-f.score, len(f.units)))
        return fits


def _pieces_z(mean: float, sd: float, pieces: int, grams: float) -> tuple[float, float]:
    """How far `grams` is from `pieces` pieces of produce (log-normal, each maybe in a bag), in sds of
    the log weight, and that sd."""
    rel = PIECE_SD_LISTED_LOW * sd / mean / math.sqrt(pieces)
    s2 = math.log1p(rel**2) + CATALOG_ERROR**2
    median = pieces * mean * math.exp(-s2 / 2.0)
    weighed = grams - min(PIECE_BAG_G * pieces, max(0.0, grams - median))
    return abs(math.log(max(weighed, 0.1) / median)) / math.sqrt(s2), math.sqrt(s2)
