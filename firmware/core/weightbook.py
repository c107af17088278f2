"""Per-product weights learned across sessions: what each product really weighs, and how it scatters.

Store catalogs are often a few percent off or missing a weight. Every settled, unchallenged
placement of one unit (a session settled without review) is an observation; a weighing confirmed
by staff counts more. After a few observations the learned weight replaces the catalog's, so a
catalog that is 5 % off stops alarming and a missing weight stops being unverifiable.

Pure: the daemon persists it (`to_dict` / `from_dict`) in its journal database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from firmware.core.basket import Basket, UnitState

STAFF_WEIGHT = 3.0  # a staff-confirmed weighing counts as this many ordinary ones


@dataclass(slots=True)
class WeightStats:
    n: float = 0.0  # weighted count
    mean: float = 0.0
    m2: float = 0.0  # weighted sum of squared deviations (West's algorithm)
    confirmed: int = 0

    @property
    def sd(self) -> float:
        return math.sqrt(self.m2 / self.n) if self.n > 0 else 0.0

    def add(self, grams: float, weight: float = 1.0) -> None:
        self.n += weight
        delta = grams - self.mean
        self.mean += delta * weight / self.n
        self.m2 += weight * delta * (grams - self.mean)


@dataclass(slots=True)
class WeightBook:
    entries: dict[str, WeightStats] = field(default_factory=dict)
    min_n: float = 3.0  # observations before the book is trusted
    outlier_sd: float = 5.0  # a new observation this far off an established weight is not learned

    def estimate(self, key: str, min_n: float | None = None) -> tuple[float, float, float] | None:
        """(mean grams, spread, weighted count), or None while too little is known."""
        stats = self.entries.get(key)
        if stats is None or stats.n < (self.min_n if min_n is None else min_n):
            return None
        # with few observations the sample spread understates the truth: widen it, never below 2 %
        return stats.mean, max(stats.sd * (1.0 + 2.0 / stats.n), 0.02 * stats.mean, 0.5), stats.n

    def observe(self, key: str, grams: float, *, confirmed: bool = False) -> bool:
        if not grams > 0:
            return False
        stats = self.entries.setdefault(key, WeightStats())
        if not confirmed and stats.n >= 3 * self.min_n:
            spread = max(stats.sd, 0.01 * stats.mean, 0.5)
            if abs(grams - stats.mean) > self.outlier_sd * spread:
                return False
        stats.add(grams, STAFF_WEIGHT if confirmed else 1.0)
        stats.confirmed += confirmed
        return True

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
        """Add what another cart learned (Chan's pooled mean and squared deviations)."""
        for key, theirs in other.entries.items():
            mine = self.entries.setdefault(key, WeightStats())
            n = mine.n + theirs.n
            if n <= 0:
                continue
            delta = theirs.mean - mine.mean
            mine.m2 += theirs.m2 + delta * delta * mine.n * theirs.n / n
            mine.mean += delta * theirs.n / n
            mine.n = n
            mine.confirmed += theirs.confirmed

    def to_dict(self) -> dict[str, Any]:
        return {k: [s.n, s.mean, s.m2, s.confirmed] for k, s in self.entries.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeightBook:
        book = cls()
        for key, (n, mean, m2, confirmed) in data.items():
            book.entries[key] = WeightStats(float(n), float(mean), float(m2), int(confirmed))
        return book
