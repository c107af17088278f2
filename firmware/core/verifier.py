"""Does a settled weight change fit what was scanned? The seam every verifier plugs into.

The cart core asks one question: given what it knows at a settled change (expected weight of the
candidate units and its spread, the measured change, the scale's noise then), how well does the
change fit? A verifier answers with a score in [0, 1] (a probability-like fit), or `None` when it
cannot judge (nothing is known of the product's weight). The core accepts fits above its
threshold; everything else is its business (pairing, alerts, review).

`RuleVerifier` is the statistical rule: a two-sided normal test of the measured change against
the expected weight, the spread combining the product's own unit-to-unit scatter, the catalog's
typical error, and the scale's noise. Asked with the lots already in the basket (`lumps_g`, the
core's last resort before an alert), it also allows that the placement knocked one of them. The
TFLite verifier (issue 5) implements the same protocol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

PUSH_S = 8.0  # motion this long is the cart pushed (a placement's ringing and hand are over sooner)


@dataclass(frozen=True, slots=True)
class FitQuery:
    measured_g: float  # magnitude of the settled change
    expected_g: float | None  # sum over the candidate units; None when unknown
    expected_sd_g: float | None  # known spread of that sum (given or learned), if any
    units: int = 1
    noise_g: float = 1.0  # sample spread while it settled
    settle_s: float = 0.0
    since_scan_s: float = 0.0
    basket_load_g: float = 0.0
    by_weight: bool = False
    learned: bool = False  # expected_g comes from this product's measured placements
    produce: bool = False  # loose fruit and vegetables: pieces vary far more than packs
    pending_units: int = 0
    measured: bool = False  # expected_g is what these very units weighed going in (a removal)
    lumps_g: tuple[float, ...] = ()  # what each lot already in the basket weighed going in (one may be knocked)


class Verifier(Protocol):
    name: str

    def fit(self, query: FitQuery) -> float | None: ...


@dataclass(frozen=True, slots=True)
class RuleVerifier:
    """Normal-error rule; the defaults are the spread real catalogs and cart scales show."""

    name: str = "rule"
    unit_scatter: float = 0.02  # relative sd of one unit around its product's weight
    produce_scatter: float = 0.3  # ... of one piece of produce (avocados, mangoes) around the typical
    catalog_error: float = 0.025  # relative sd of a catalog weight against the truth
    learned_error: float = 0.015  # relative sd of a weight learned from a few placements
    measured_error: float = 0.004  # ... of a unit's own weighing (corner error, creep) when it leaves again
    scale_sd_g: float = 1.0  # sd of a settled change from noise, ringing residue, shifting
    noise_factor: float = 0.5  # extra sd per gram of sample noise at the moment
    pushed_s: float = PUSH_S  # a change that settled after this much motion came through a push...
    push_shift_rel: float = 0.0005  # ... which shifts goods on the load cells' corners: sd, share of the load
    knock_p: float = 0.1  # share of placements that knock a lot already in the basket to a new spot...
    knock_rel: float = 0.003  # ... where the corners read it differently: sd, share of that lot's weight

    def spread_g(self, query: FitQuery) -> float:
        assert query.expected_g is not None
        expected = query.expected_g
        rel = self.measured_error if query.measured else self.learned_error if query.learned else self.catalog_error
        item_sd = query.expected_sd_g
        if item_sd is None:
            # units scatter independently: the sum's spread grows with the square root of the count
            scatter = self.produce_scatter if query.produce else self.unit_scatter
            item_sd = scatter * expected / math.sqrt(max(1, query.units))
        scale_sd = self.scale_sd_g + self.noise_factor * query.noise_g
        shift_sd = self.push_shift_rel * query.basket_load_g if query.settle_s >= self.pushed_s else 0.0
        return math.sqrt(item_sd**2 + (rel * expected) ** 2 + scale_sd**2 + shift_sd**2)

    def distance(self, query: FitQuery) -> float:
        """How many spreads the change lies from the units' expected weight."""
        assert query.expected_g is not None
        return abs(query.measured_g - query.expected_g) / self.spread_g(query)

    def knock_share(self, query: FitQuery) -> float:
        """What the story "the item going in knocked one of the lots (`lumps_g`) and shifted its
        reading" adds to the fit; any lot is as likely to be the one knocked. Only a heavy lot shifts
        by more than the spread already allows, so only those count."""
        if query.expected_g is None or query.measured or not query.lumps_g:
            return 0.0
        off = abs(query.measured_g - query.expected_g)
        spread = self.spread_g(query)
        tail = math.erfc(off / spread / math.sqrt(2.0))
        knocked = [self.knock_rel * m for m in query.lumps_g if self.knock_rel * m > 0.5 * spread]
        wider = sum(math.erfc(off / math.hypot(spread, k) / math.sqrt(2.0)) - tail for k in knocked)
        return self.knock_p * wider / len(query.lumps_g)

    def fit(self, query: FitQuery) -> float | None:
        if query.expected_g is None:
            return None
        tail = math.erfc(self.distance(query) / math.sqrt(2.0))  # two-sided tail probability
        return tail + self.knock_share(query)
