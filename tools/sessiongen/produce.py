"""Loose produce: which PLU items a store stocks, how they are priced, and what a shopper's pick weighs.

Most produce is sold by weight (price per kg, keyed by PLU and weighed in the basket); some is sold
per piece (lettuce, avocados, melons...), where the catalog knows only a typical piece weight and its
spread. A pick is a number of pieces of a lognormally scattered weight, sometimes in a thin bag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class ProduceKind:
    """How one family of produce is sold and what its pieces weigh."""

    pattern: str
    sold_by: str  # "weight" or "each"
    price_cents: int  # per kg, or per piece
    piece_g: float  # median weight of one piece (or one handful for berries, cherries, nuts)
    piece_cv: float  # piece-to-piece spread (lognormal sigma)
    count: tuple[int, int]  # pieces in one pick (inclusive)
    bag_p: float  # chance the pick goes in a produce bag


# fmt: off
KINDS: tuple[ProduceKind, ...] = (
    ProduceKind(r"pineapple", "each", 299, 1300, 0.15, (1, 1), 0.0),
    ProduceKind(r"banana", "weight", 199, 150, 0.15, (3, 7), 0.05),
    ProduceKind(r"apple", "weight", 299, 190, 0.18, (2, 8), 0.7),
    ProduceKind(r"\bpears?\b", "weight", 299, 200, 0.18, (2, 6), 0.7),
    ProduceKind(r"clementine|mandarin|tangerine|satsuma", "weight", 299, 80, 0.2, (4, 12), 0.8),
    ProduceKind(r"orange", "weight", 249, 180, 0.2, (3, 8), 0.7),
    ProduceKind(r"lemon|\blimes?\b", "each", 59, 110, 0.18, (1, 4), 0.3),
    ProduceKind(r"grapefruit|pomelo", "each", 99, 350, 0.15, (1, 2), 0.1),
    ProduceKind(r"grape", "weight", 449, 550, 0.35, (1, 2), 0.6),
    ProduceKind(r"tomato", "weight", 349, 110, 0.3, (3, 8), 0.7),
    ProduceKind(r"cherr", "weight", 1199, 450, 0.35, (1, 1), 0.9),
    ProduceKind(r"strawberr|blueberr|raspberr|blackberr|currant|gooseberr", "weight", 1199, 300, 0.3, (1, 1), 0.9),
    ProduceKind(r"sweet potato|\byams?\b", "weight", 299, 300, 0.3, (1, 4), 0.6),
    ProduceKind(r"potato", "weight", 149, 200, 0.35, (3, 10), 0.8),
    ProduceKind(r"onion|shallot", "weight", 179, 170, 0.3, (1, 5), 0.6),
    ProduceKind(r"garlic", "weight", 799, 50, 0.2, (1, 3), 0.4),
    ProduceKind(r"ginger|turmeric", "weight", 699, 110, 0.45, (1, 1), 0.4),
    ProduceKind(r"carrot", "weight", 149, 90, 0.25, (3, 8), 0.7),
    ProduceKind(r"chil[ei]|jalape|habanero|serrano", "weight", 999, 15, 0.3, (2, 8), 0.8),
    ProduceKind(r"pepper", "weight", 499, 180, 0.2, (1, 3), 0.5),
    ProduceKind(r"mushroom", "weight", 799, 18, 0.35, (8, 25), 0.9),
    ProduceKind(r"avocado", "each", 119, 200, 0.15, (1, 4), 0.3),
    ProduceKind(r"watermelon", "each", 499, 5000, 0.2, (1, 1), 0.0),
    ProduceKind(r"melon|cantaloupe|honeydew", "each", 299, 1400, 0.2, (1, 1), 0.0),
    ProduceKind(r"mango", "each", 179, 350, 0.18, (1, 3), 0.2),
    ProduceKind(r"cucumber", "each", 79, 400, 0.12, (1, 2), 0.1),
    ProduceKind(r"lettuce|romaine|endive|radicchio", "each", 129, 400, 0.18, (1, 1), 0.3),
    ProduceKind(r"cabbage", "each", 199, 1100, 0.2, (1, 1), 0.2),
    ProduceKind(r"cauliflower", "each", 249, 800, 0.18, (1, 1), 0.2),
    ProduceKind(r"broccoli", "weight", 349, 400, 0.2, (1, 1), 0.4),
    ProduceKind(r"zucchini|courgette|squash|eggplant|aubergine", "weight", 299, 250, 0.25, (1, 4), 0.5),
    ProduceKind(r"kiwi", "weight", 499, 90, 0.15, (3, 8), 0.7),
    ProduceKind(r"peach|nectarine", "weight", 499, 150, 0.2, (3, 8), 0.8),
    ProduceKind(r"\bplums?\b|apricot", "weight", 499, 60, 0.2, (4, 12), 0.9),
    ProduceKind(r"celery", "each", 149, 700, 0.2, (1, 1), 0.3),
    ProduceKind(r"\bleeks?\b", "weight", 299, 250, 0.2, (1, 3), 0.3),
    ProduceKind(r"\bcorn\b", "each", 69, 350, 0.15, (1, 4), 0.3),
    ProduceKind(r"coconut", "each", 199, 600, 0.15, (1, 1), 0.0),
    ProduceKind(r"basil|parsley|cilantro|coriander|\bmint\b|\bdill\b|chive|rosemary|thyme|sage", "each", 129,
                30, 0.25, (1, 2), 0.5),
    ProduceKind(r"walnut|almond|pecan|hazelnut|chestnut|peanut|pistachio", "weight", 1499, 300, 0.35, (1, 1), 1.0),
    ProduceKind(r"pumpkin", "weight", 199, 2500, 0.3, (1, 1), 0.0),
    ProduceKind(r"\bbeets?\b|beetroot|radish|turnip|parsnip|rutabaga", "weight", 249, 150, 0.3, (2, 6), 0.7),
    ProduceKind(r"\bfigs?\b|\bdates?\b", "weight", 1599, 40, 0.2, (3, 8), 0.9),
    ProduceKind(r"pomegranate", "each", 199, 350, 0.15, (1, 2), 0.2),
    ProduceKind(r"asparagus", "weight", 999, 400, 0.2, (1, 1), 0.3),
    ProduceKind(r"\bbeans?\b|\bpeas\b", "weight", 599, 300, 0.3, (1, 1), 1.0),
)
# fmt: on
_COMPILED = tuple((re.compile(k.pattern), k) for k in KINDS)
ORGANIC_PRICE_FACTOR = 1.4


def produce_kind(name: str) -> ProduceKind | None:
    """The produce family a PLU name belongs to, or None for lines a small store does not stock."""
    text = name.lower()
    for pattern, kind in _COMPILED:
        if pattern.search(text):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class ProducePick:
    """One bag (or loose bunch) of produce as the shopper puts it in the basket."""

    pieces_g: tuple[float, ...]
    bag_g: float

    @property
    def total_g(self) -> float:
        return float(sum(self.pieces_g) + self.bag_g)


def draw_pick(kind: ProduceKind, rng: np.random.Generator, pieces: int | None = None) -> ProducePick:
    """A shopper's pick of a produce kind: pieces of scattered weight, maybe in a bag."""
    n = pieces if pieces is not None else int(rng.integers(kind.count[0], kind.count[1] + 1))
    weights = kind.piece_g * rng.lognormal(0.0, kind.piece_cv, size=n)
    bag = 0.0
    if rng.random() < kind.bag_p:
        # Thin HDPE produce bag 3-6 g; one in eight a paper bag 10-20 g.
        bag = float(rng.uniform(10, 20) if rng.random() < 0.125 else rng.uniform(3, 6))
    return ProducePick(tuple(float(w) for w in weights), bag)


def piece_stats(kind: ProduceKind) -> tuple[float, float]:
    """Mean and standard deviation of one piece (lognormal with median piece_g)."""
    s2 = kind.piece_cv**2
    mean = kind.piece_g * float(np.exp(s2 / 2))
    sd = mean * float(np.sqrt(np.expm1(s2)))
    return mean, sd
