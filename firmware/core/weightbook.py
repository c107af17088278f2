"""Per-product weights learned across sessions: what each product really weighs, and how it scatters.

Store catalogs are often a few percent off or missing a weight. Every settled, unchallenged
placement of one unit (a session settled without review) is an observation; a weighing confirmed
by staff counts more. After a few observations the learned weight replaces the catalog's, so a
catalog that is 5 % off stops alarming and a missing weight stops being unverifiable. A product's
latest weighings are kept and its weight is what three in four of them agree on: the odd wrong one
(a swap nobody noticed) is outvoted, not averaged in for good.

Pure: the daemon persists it, a row a weighing (`firmware/daemon/bookstore.py`); a book that is to be
saved keeps what it learned since the last save in `unsaved`.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Any

from firmware.core.basket import Basket, UnitState

STAFF_WEIGHT = 3.0  # a staff-confirmed weighing counts as this many ordinary ones
KEPT = 16  # a product's latest weighings kept: plenty to know it by, and a change of pack is followed
AGREE_SCALES = 4.0  # a weighing this many robust spreads from the median is not the product (a swap)...
AGREE_MIN_REL = 0.025  # ... a robust spread never taken below this share of it: a few weighings that
# happen to lie close must not cast out the product's own scatter (a wrong one is 15 % off or more)
AGREE_SHARE = 0.75  # the agreeing weighings must be this share of those kept, or the product is not known:
# two units counted as one, twice, must not outvote the one true weighing of a product with no catalog weight


@dataclass(slots=True)
class WeightStats:
    """A product's latest weighings. Its weight is what three in four agree on: an unnoticed swap or two
    units counted as one taught a wrong weighing now and then, and a mean over all of them would carry
    it for ever (a product with no catalog weight would never be trusted again)."""

    # grams and weight of each weighing, interleaved, oldest first: a flat array, as a store's book
    # holds thousands of products (a list of tuples took six times the memory)
    packed: array = field(default_factory=lambda: array("d"))
    confirmed: int = 0
    _summary: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)

    @property
    def weighings(self) -> list[tuple[float, float]]:
        """(grams, weight) of each weighing kept, oldest first."""
        data = self.packed
        return [(data[i], data[i + 1]) for i in range(0, len(data), 2)]

    @property
    def n(self) -> float:
        """Weighted count of the weighings kept."""
        return sum(self.packed[1::2])

    def add(self, grams: float, weight: float = 1.0) -> None:
        self.packed.extend((grams, weight))
        del self.packed[: -2 * KEPT]
        self._summary = None

    def summary(self) -> tuple[float, float, float]:
        """(mean, sd, weighted count) of the weighings that agree with the weighted median; a count of
        0 when too many disagree to tell which are right."""
        if self._summary is None:
            self._summary = _agreeing(self.weighings)
        return self._summary


def _weighted_median(values: list[tuple[float, float]]) -> float:
    ranked = sorted(values)
    half = sum(w for _, w in ranked) / 2.0
    below = 0.0
    for i, (x, w) in enumerate(ranked):
        below += w
        if below > half:
            return x
        if below == half:  # an even split: halfway to the next
            return (x + ranked[i + 1][0]) / 2.0 if i + 1 < len(ranked) else x
    return ranked[-1][0]


def _agreeing(weighings: list[tuple[float, float]]) -> tuple[float, float, float]:
    if not weighings:
        return 0.0, 0.0, 0.0
    median = _weighted_median(weighings)
    mad = _weighted_median([(abs(x - median), w) for x, w in weighings])
    scale = max(1.4826 * mad, AGREE_MIN_REL * abs(median), 0.5)
    kept = [(x, w) for x, w in weighings if abs(x - median) <= AGREE_SCALES * scale]
    n = sum(w for _, w in kept)
    mean = sum(x * w for x, w in kept) / n
    sd = math.sqrt(sum(w * (x - mean) ** 2 for x, w in kept) / n)
    if n < AGREE_SHARE * sum(w for _, w in weighings):
        return mean, sd, 0.0
    return mean, sd, n


Learned = tuple[str, float, float, bool]  # (product key, grams, weight, staff-confirmed)


@dataclass(slots=True)
class WeightBook:
    entries: dict[str, WeightStats] = field(default_factory=dict)
    min_n: float = 3.0  # observations before the book is trusted
    unsaved: list[Learned] | None = None  # weighings learned since the last save; None: not kept (replays)

    def estimate(self, key: str, min_n: float | None = None) -> tuple[float, float, float] | None:
        """(mean grams, spread, weighted count) of the weighings that agree, or None while too few do."""
        stats = self.entries.get(key)
        if stats is None:
            return None
        mean, sd, n = stats.summary()
        if n < (self.min_n if min_n is None else min_n):
            return None
        # with few observations the sample spread understates the truth: widen it, never below 2 %
        return mean, max(sd * (1.0 + 2.0 / n), 0.02 * mean, 0.5), n

    def observe(self, key: str, grams: float, *, confirmed: bool = False) -> bool:
        if not grams > 0:
            return False
        weight = STAFF_WEIGHT if confirmed else 1.0
        self.add_weighing(key, grams, weight)
        self.entries[key].confirmed += confirmed
        if self.unsaved is not None:
            self.unsaved.append((key, grams, weight, confirmed))
        return True

    def add_weighing(self, key: str, grams: float, weight: float) -> None:
        """A weighing as saved (loading a book): not learned anew, so not unsaved."""
        self.entries.setdefault(key, WeightStats()).add(grams, weight)

    def take_unsaved(self) -> list[Learned]:
        """What was learned since the last call, for the store to write."""
        if self.unsaved is None:
            return []
        learned, self.unsaved = self.unsaved, []
        return learned

    def learn_session(self, basket: Basket, settled: bool) -> int:
        """Learn from a finished session: units that went in alone, when nobody challenged the session."""
        if not settled:
            return 0
        learned = 0
        for unit in basket.units.values():
            if unit.state is not UnitState.PLACED or unit.product is None or unit.by_weight:
                continue
            if unit.placed_with != 1 or unit.weight_g is None or unit.knocked:
                continue
            learned += self.observe(unit.key, unit.weight_g)
        return learned

    def merge(self, other: WeightBook) -> None:
        """Add what another cart learned (its latest weighings after this cart's). Pools books in a
        benchmark; not kept in `unsaved` (a cart learns the fleet's weighings one by one, `observe`)."""
        for key, theirs in other.entries.items():
            mine = self.entries.setdefault(key, WeightStats())
            for grams, weight in theirs.weighings:
                mine.add(grams, weight)
            mine.confirmed += theirs.confirmed

    def to_dict(self) -> dict[str, Any]:
        return {
            k: {"weighings": [list(g) for g in s.weighings], "confirmed": s.confirmed} for k, s in self.entries.items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeightBook:
        book = cls()
        for key, saved in data.items():
            stats = book.entries[key] = WeightStats()
            if isinstance(saved, dict):
                for grams, weight in saved["weighings"]:
                    stats.add(float(grams), float(weight))
                stats.confirmed = int(saved["confirmed"])
            else:  # a book saved before weighings were kept: [n, mean, m2, confirmed]
                n, mean, m2, confirmed = (float(v) for v in saved)
                if n > 0:  # two half-weight weighings a spread either side keep its mean, spread and count
                    sd = math.sqrt(max(m2, 0.0) / n)
                    stats.add(mean - sd, n / 2.0)
                    stats.add(mean + sd, n / 2.0)
                stats.confirmed = int(confirmed)
        return book
