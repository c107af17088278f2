"""Why a generated session failed, told from its ground truth.

A few physical situations leave the cart, in a new store, without the evidence to settle the bill
from weight alone; the shopper's answer on the screen would settle them, but generated sessions do
not react to the cart. Naming them apart from the rest shows how much of a benchmark's failure is
that floor and how much is the cart's own doing ("other"):

- units of a product the catalog gives no weight put in together (or so close that the scale saw one
  change): one unit and a scan not placed weigh the same as two units;
- a removal when another unit in the basket weighs within a few grams of the one taken out;
- a swap whose scanned product has no catalog weight: nothing says what it should weigh;
- produce sold by weight, weighed a few per cent off (a heavy lot knocked as it went in, a hand).
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise
from typing import Any

from tools.scoring import Score, product_key

UNKNOWN_LUMP = "unknown-weight units put in together"
NEAR_TWIN = "removal with a near twin in the basket"
UNKNOWN_SWAP = "swap of a product with no catalog weight"
PRODUCE_GRAMS = "produce weighed a few % off"
OTHER = "other"
CAUSES = (UNKNOWN_LUMP, NEAR_TWIN, UNKNOWN_SWAP, PRODUCE_GRAMS, OTHER)

TWIN_G, TWIN_REL = 4.0, 0.02  # another unit this close to the one taken out is a near twin
TOGETHER_S = 2.5  # units put in this close together settle as one change


def failure_cause(score: Score, truth: dict[str, Any], report: dict[str, Any], weighs: dict[str, Any]) -> str | None:
    """The cause of a failed (or silently overcharged) session, or None when it did not fail.
    `weighs`: printed code -> (catalog weight in grams or None, sold by weight?)."""
    if not score.failed and not score.silent_overcharge:
        return None
    if not score.honest:
        incident = truth.get("incident") or {}
        scanned = weighs.get(incident.get("scanned_code", ""))
        if incident.get("kind") == "swap" and scanned is not None and scanned[0] is None:
            return UNKNOWN_SWAP
        return OTHER  # (an incident silently overcharged was not caught either)
    return _honest_cause(score, truth, report, weighs)


def _honest_cause(score: Score, truth: dict[str, Any], report: dict[str, Any], weighs: dict[str, Any]) -> str:
    billed = Counter()
    for item in report["items"]:
        billed[product_key(item["code"])] += item["qty"]
    units = truth["units"]
    for code in {u["code"] for u in units}:
        catalog = weighs.get(code)
        if catalog is None or catalog[0] is not None or catalog[1]:
            continue
        mine = sorted((u for u in units if u["code"] == code), key=lambda u: u["t_in"])
        together = any(b["t_in"] - a["t_in"] <= TOGETHER_S for a, b in pairwise(mine))
        if together and billed[product_key(code)] < sum(u["t_out"] is None for u in mine):
            return UNKNOWN_LUMP
    if "removal_unidentified" in score.reasons and any(_near_twin(units, u) for u in units if u["t_out"] is not None):
        return NEAR_TWIN
    if score.differences and all(" g, cart holds " in d for d in score.differences):
        return PRODUCE_GRAMS
    return OTHER


def _near_twin(units: list[dict[str, Any]], out: dict[str, Any]) -> bool:
    t, grams = out["t_out"], out["weight_g"]
    return any(
        u is not out
        and u["t_in"] <= t
        and (u["t_out"] is None or u["t_out"] > t)
        and abs(u["weight_g"] - grams) <= max(TWIN_G, TWIN_REL * grams)
        for u in units
    )
