"""Which units might one weight change carry? Sub-multisets of candidate units, scored by a verifier.

Units of the same product at the same price are interchangeable, so groups are enumerated as a
count per product rather than as combinations of units: five tins scanned and put in together are
one candidate ("5 x tins"), not 31 subsets. A group may hold one product whose weight nobody knows;
its share is then whatever the known units leave (accepted, unverified, only when nothing fits).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from firmware.core.basket import Unit

ExpectFn = Callable[[Unit], "tuple[float, float | None, bool] | None"]


@dataclass(frozen=True, slots=True)
class GroupFit:
    units: list[Unit]
    score: float  # verifier score; 0 for an unverified group
    verified: bool
    shares_g: list[float]  # what each unit weighed, as placed


def interchangeable(unit: Unit) -> tuple[str, int, int]:
    """Units that leave the same bill and should weigh the same; goods sold by weight never are."""
    return (unit.key, unit.price_cents, unit.uid if unit.by_weight else 0)


def sub_multisets(units: list[Unit], max_units: int, max_groups: int = 3000) -> Iterator[list[Unit]]:
    """Non-empty groups of at most `max_units` units; identical units counted, not combined.

    Products are taken newest first; when their counts would make too many groups, the oldest
    products are left out (a change almost always carries what was handled last).
    """
    by_kind: dict[tuple[str, int, int], list[Unit]] = {}
    for unit in units:  # callers pass units newest first
        by_kind.setdefault(interchangeable(unit), []).append(unit)
    kinds = list(by_kind.values())
    total = 1
    kept: list[list[Unit]] = []
    for same in kinds:
        if total * (len(same) + 1) > max_groups and kept:
            break
        total *= len(same) + 1
        kept.append(same)
    for counts in itertools.product(*(range(len(same) + 1) for same in kept)):
        size = sum(counts)
        if 0 < size <= max_units:
            yield [unit for same, count in zip(kept, counts, strict=True) for unit in same[:count]]
