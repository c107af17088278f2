"""Physical model of packaged goods: what a pack really weighs and what it plausibly costs.

Open Food Facts gives the *net* content (g or ml) of a product, often wrong or missing. A cart scale
weighs the *gross* pack: content (ml converted with the liquid's density) plus packaging (glass,
steel, aluminium, PET, carton, film, board...). Products are put in a class by keywords in their
categories and name; the class gives the density, the likely packagings, a plausible net range
(outside it the OFF figure is treated as a data error and the content is drawn from the class's
prior), the fill spread and a price level. Figures and their reasons are in WORLD.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# Packaging mass in grams as a * content^b (content in g or ml), fitted to typical packs:
# 75 cl wine bottle ~480 g, 33 cl beer bottle ~240 g, 370 ml jam jar ~210 g, 400 g food can ~55 g,
# 33 cl drinks can ~13 g, 1.5 l PET bottle ~35 g, 1 l HDPE milk bottle ~32 g, 1 l carton ~29 g,
# 125 g yoghurt pot ~7 g, 100 g snack bag ~4 g, 375 g cereal box ~42 g, 250 g meat tray ~14 g.
PACKAGING: dict[str, tuple[float, float]] = {
    "glass_bottle": (1.73, 0.85),
    "glass_jar": (3.0, 0.72),
    "steel_can": (1.2, 0.64),
    "alu_can": (0.25, 0.68),
    "pet_bottle": (0.55, 0.57),
    "hdpe_bottle": (1.0, 0.5),
    "carton": (0.35, 0.64),
    "plastic_pot": (0.2, 0.75),
    "film_bag": (0.45, 0.45),
    "paper_box": (1.6, 0.55),
    "tray_film": (0.9, 0.5),
    "paper_wrap": (0.25, 0.55),
}


@dataclass(frozen=True, slots=True)
class ProductClass:
    """A family of goods sharing packaging, density, size range and price level."""

    name: str
    pattern: str  # regex searched in "categories + name", lower case
    liquid: bool  # OFF amounts are usually ml
    density: tuple[float, float]  # g/ml range (used for ml amounts)
    packagings: tuple[tuple[str, float], ...]
    net_range: tuple[float, float]  # plausible net content of one retail unit, g or ml
    prior_median: float  # net content drawn when OFF has none (lognormal)
    prior_sigma: float
    fill_cv: tuple[float, float]  # unit-to-unit spread of the content
    price_per_kg_cents: float


def _cls(name, pattern, liquid, density, packagings, net_range, median, sigma, fill_cv, ppk):
    return ProductClass(name, pattern, liquid, density, packagings, net_range, median, sigma, fill_cv, ppk)


# Ordered: the first class whose pattern matches wins.
# fmt: off
CLASSES: tuple[ProductClass, ...] = (
    _cls("gum", r"chewing|\bgum\b|gomma da mast|kaugummi|tic tac|\bmints?\b", False, (1, 1),
         (("film_bag", 0.7), ("paper_box", 0.3)), (8, 200), 25, 0.4, (0.01, 0.02), 3500),
    _cls("ice_cream", r"ice-cream|ice cream|glaces?\b|gelato|\beis\b|sorbet", True, (0.5, 0.62),
         (("plastic_pot", 0.6), ("paper_box", 0.4)), (50, 2500), 500, 0.5, (0.01, 0.03), 900),
    _cls("yoghurt", r"yogurt|yoghurt|yaourt|joghurt|\bskyr\b|dairy-dessert|fromage blanc|fromages-blancs|"
         r"cr[eè]me fra|\bcream\b|kefir|quark", False, (1.03, 1.07), (("plastic_pot", 1.0),), (50, 1000),
         400, 0.5, (0.005, 0.015), 400),
    _cls("cheese", r"cheeses|fromage|formaggi|\bkäse|cheese|mozzarella|parmigiano|camembert|brie|gouda|"
         r"emmental|comt[eé]", False, (1, 1), (("tray_film", 0.7), ("paper_wrap", 0.3)), (30, 1500), 200,
         0.5, (0.01, 0.02), 1600),
    _cls("jar", r"jams|confiture|marmela|honey|\bmiel\b|\bmiele\b|spreads|sauces|pesto|pickle|mayonnai|"
         r"peanut butter|ketchup|mustard|moutarde|senf|passata|relish|gherkin|cornichon|olives|tapenade|"
         r"chutney|salsa", False, (1.0, 1.4), (("glass_jar", 0.75), ("pet_bottle", 0.25)), (50, 1500), 350,
         0.4, (0.005, 0.012), 900),
    _cls("butter", r"butter|beurre|\bburro\b|margarin", False, (1, 1),
         (("paper_wrap", 0.7), ("plastic_pot", 0.3)), (100, 1000), 250, 0.3, (0.005, 0.01), 1000),
    _cls("candy", r"chocolat|cioccolat|schokolad|confectioner|candies|candy|bonbon|caramel|gumm|"
         r"praline|truffle|sweets|liquorice|licorice|marshmallow|lollipop", False, (1, 1),
         (("film_bag", 0.7), ("paper_box", 0.3)), (8, 1000), 100, 0.7, (0.008, 0.02), 1400),
    _cls("water", r"en:waters|mineral-water|\bwater\b|\beau\b|acqua|wasser|\bagua\b", True, (0.998, 1.001),
         (("pet_bottle", 0.85), ("glass_bottle", 0.15)), (250, 2000), 1500, 0.4, (0.003, 0.006), 45),
    _cls("soda", r"carbonated|sodas|colas?\b|soft.drink|limonad|lemonade|energy.drink|tonic|root beer", True,
         (1.0, 1.045), (("alu_can", 0.45), ("pet_bottle", 0.5), ("glass_bottle", 0.05)), (150, 2000), 500,
         0.6, (0.003, 0.006), 160),
    _cls("juice", r"juices|nectars|\bjus\b|succo|\bsaft\b|\bjuice", True, (1.03, 1.06),
         (("carton", 0.5), ("pet_bottle", 0.3), ("glass_bottle", 0.2)), (150, 2000), 1000, 0.5,
         (0.003, 0.006), 260),
    _cls("milk", r"en:milks|plant-milks|\blait\b|\blatte\b|\bmilch\b|\bmilk\b|soy drink|oat drink", True,
         (1.028, 1.035), (("carton", 0.65), ("hdpe_bottle", 0.25), ("glass_bottle", 0.1)), (200, 2000),
         1000, 0.3, (0.003, 0.006), 130),
    _cls("beer", r"beers|bi[eè]re|birra|\bbier\b|\bbeer\b|\bale\b|lager", True, (1.005, 1.015),
         (("glass_bottle", 0.6), ("alu_can", 0.4)), (250, 1000), 500, 0.3, (0.003, 0.006), 350),
    _cls("wine", r"wines|\bvin\b|\bvino\b|\bwein\b|champagne|spirits|whisk|vodka|\brhum\b|\brum\b|liqueur|cidre|cider",
         True, (0.94, 1.0), (("glass_bottle", 1.0),), (187, 3000), 750, 0.2, (0.003, 0.006), 1000),
    _cls("oil", r"oils|\bhuile|\bolio\b|vinegar|vinaigre|aceto|\böl\b", True, (0.91, 1.02),
         (("glass_bottle", 0.65), ("pet_bottle", 0.35)), (100, 3000), 750, 0.4, (0.003, 0.008), 900),
    _cls("tea", r"en:teas|herbal-teas|\bth[eé]\b|\btea\b|\btè\b|\btee\b|tisane|infusion", False, (1, 1),
         (("paper_box", 0.8), ("film_bag", 0.2)), (15, 500), 40, 0.5, (0.01, 0.03), 5000),
    _cls("coffee", r"coffees|\bcaf[eé]\b|caff[eè]|coffee|kaffee|espresso", False, (1, 1),
         (("film_bag", 0.6), ("glass_jar", 0.2), ("paper_box", 0.2)), (50, 1000), 250, 0.4,
         (0.005, 0.015), 1600),
    _cls("spice", r"spices|[ée]pices|spezie|gewürz|seasoning|\bsalt\b|\bsel\b|\bsale\b|herbs|bouillon|"
         r"stock cube|\bcube\b|vanilla|cinnamon|paprika|curry|oregano", False, (1, 1),
         (("glass_jar", 0.4), ("film_bag", 0.6)), (8, 1000), 40, 0.8, (0.01, 0.03), 5000),
    _cls("canned", r"canned|conserve|in tin|\bboîte\b|\btinned", False, (1, 1),
         (("steel_can", 0.85), ("glass_jar", 0.15)), (100, 3000), 400, 0.4, (0.005, 0.015), 450),
    _cls("dry", r"pastas|rices|flour|farine|cereal-grains|legumes|dried-products|\bp[aâ]tes\b|\bpasta\b|"
         r"\briso\b|\breis\b|\brice\b|lentil|semoule|couscous|sugar|sucre|zucker|oats|flocons", False,
         (1, 1), (("film_bag", 0.55), ("paper_box", 0.45)), (100, 5000), 500, 0.4, (0.005, 0.012), 300),
    _cls("biscuits", r"breakfast-cereals|biscuit|cookie|cakes|cracker|g[aâ]teau|biscott|\bkeks|wafer|"
         r"muesli|granola|brioche", False, (1, 1), (("paper_box", 0.6), ("film_bag", 0.4)), (20, 1500), 250,
         0.5, (0.008, 0.02), 900),
    _cls("snacks", r"salty-snacks|chips|crisps|\bnuts\b|nuts-and|pretzel|popcorn|dried-fruit|\bseeds\b|"
         r"peanut|almond|cashew|raisin|apricot", False, (1, 1), (("film_bag", 1.0),), (15, 1000), 150, 0.6,
         (0.008, 0.02), 1300),
    _cls("bread", r"breads|\bpain\b|\bpane\b|\bbrot\b|\bbread\b|baguette|tortilla|wraps", False, (1, 1),
         (("film_bag", 0.7), ("paper_wrap", 0.3)), (100, 1500), 500, 0.4, (0.01, 0.03), 450),
    _cls("meat", r"meats|seafood|fishes|\bhams?\b|sausage|poultr|chicken|\bmeals\b|pizza|quiche|jambon|"
         r"prosciutto|salami|saumon|salmon|\btuna\b|thon|beef|\bboeuf|\bpork\b|rillettes|p[aâ]t[eé]", False,
         (1, 1), (("tray_film", 0.7), ("paper_box", 0.3)), (50, 2000), 300, 0.5, (0.01, 0.025), 1500),
    _cls("frozen", r"frozen|surgel|tiefgek", False, (1, 1), (("film_bag", 0.5), ("paper_box", 0.5)),
         (100, 2500), 600, 0.4, (0.01, 0.02), 800),
    _cls("soup", r"soups|\bsoupe|\bzuppa|\bsuppe|\bsoup\b|velout", True, (1.02, 1.05),
         (("carton", 0.6), ("steel_can", 0.4)), (200, 1500), 500, 0.3, (0.005, 0.012), 500),
    _cls("fresh", r"fresh-vegetables|fresh-fruits|salads|leaf-vegetables|fresh-plant|mushrooms", False,
         (1, 1), (("tray_film", 0.5), ("film_bag", 0.5)), (50, 3000), 300, 0.5, (0.02, 0.05), 600),
    _cls("baby", r"baby-food|babyfood|\bbaby\b|b[eé]b[eé]", False, (1, 1),
         (("glass_jar", 0.6), ("plastic_pot", 0.4)), (80, 500), 200, 0.3, (0.005, 0.012), 1200),
    _cls("other", r".", False, (1.0, 1.1), (("film_bag", 0.4), ("paper_box", 0.3), ("plastic_pot", 0.15),
         ("glass_jar", 0.1), ("steel_can", 0.05)), (8, 2500), 300, 0.7, (0.008, 0.02), 1000),
)
# fmt: on

_COMPILED = tuple((re.compile(c.pattern), c) for c in CLASSES)
CLASS_BY_NAME = {c.name: c for c in CLASSES}


def classify(name: str, categories: str) -> ProductClass:
    """The product class of an OFF row: by its category tags when they say, else by its name."""
    for text in (categories.lower(), name.lower()):
        if not text:
            continue
        for pattern, cls in _COMPILED[:-1]:
            if pattern.search(text):
                return cls
    return _COMPILED[-1][1]


def packaging_g(kind: str, content: float) -> float:
    """Mean mass of the packaging of a given kind around `content` (g or ml)."""
    a, b = PACKAGING[kind]
    return a * max(content, 1.0) ** b


@dataclass(frozen=True, slots=True)
class PackTruth:
    """What one pack of a product physically is: mean gross weight, its unit spread, and make-up."""

    net_g: float  # declared content in grams (ml converted)
    net_declared: float  # as declared, in g or ml
    packaging: str
    mean_g: float  # true mean gross weight of one unit
    sd_g: float  # true unit-to-unit spread
    from_off: bool  # net content taken from OFF (else drawn from the class prior)


def pack_truth(
    cls: ProductClass,
    net_amount: float | None,
    net_unit: str,
    rng: np.random.Generator,
    packaging: str | None = None,
    pkg_factor: float | None = None,
    overfill: float | None = None,
    density: float | None = None,
) -> PackTruth:
    """Draw the physical make-up of one product.

    `packaging`, `pkg_factor`, `overfill` and `density` may be fixed by the caller so that twin
    products (flavours of one range) share their pack.
    """
    lo, hi = cls.net_range
    if plausible_amount(cls, net_amount, net_unit):
        assert net_amount is not None
        declared, from_off = float(net_amount), True
    else:
        declared = float(np.clip(rng.lognormal(np.log(cls.prior_median), cls.prior_sigma), lo, hi))
        declared = _round_pack_size(declared)
        net_unit = "ml" if cls.liquid else "g"
        from_off = False
    drawn_density = float(rng.uniform(*cls.density))
    if net_unit != "ml":
        density = 1.0
    elif density is None:
        density = drawn_density
    net_g = declared * density
    if packaging is None:
        kinds, weights = zip(*cls.packagings, strict=True)
        packaging = str(rng.choice(kinds, p=np.asarray(weights) / sum(weights)))
        if cls.name == "wine" and declared >= 2000:
            packaging = "paper_box"  # bag-in-box
    if pkg_factor is None:
        pkg_factor = float(rng.uniform(0.8, 1.25))
    if overfill is None:
        overfill = float(rng.uniform(0.0, 0.015))
    pkg = packaging_g(packaging, declared) * pkg_factor
    mean = net_g * (1.0 + overfill) + pkg
    fill_cv = rng.uniform(*cls.fill_cv)
    pkg_cv = rng.uniform(0.01, 0.04)
    sd = float(np.hypot(net_g * fill_cv, pkg * pkg_cv))
    return PackTruth(net_g, declared, packaging, float(mean), max(sd, 0.05), from_off)


def plausible_amount(cls: ProductClass, net_amount: float | None, net_unit: str) -> bool:
    """Whether an OFF net amount can be one retail unit of this class (else it is a data error)."""
    lo, hi = cls.net_range
    return net_amount is not None and net_unit in ("g", "ml") and lo <= net_amount <= hi


def _round_pack_size(x: float) -> float:
    """Pack sizes come in round figures (25 g, 330 ml, 1.5 l)."""
    step = 5.0 if x < 100 else 25.0 if x < 1000 else 250.0
    return max(step, round(x / step) * step)


def charm_price(raw_cents: float) -> int:
    """Retail price ending in 9 (0.49, 1.29, 12.99), never below 0.19."""
    if raw_cents < 100:
        return max(19, round(raw_cents / 10.0) * 10 - 1)
    if raw_cents < 1000:
        return round(raw_cents / 10.0) * 10 - 1
    return round(raw_cents / 50.0) * 50 - 1


def pack_price_cents(cls: ProductClass, net_g: float, rng: np.random.Generator) -> int:
    """Plausible shelf price: the class's price per kg, cheaper per kg for bigger packs, brand spread."""
    kg = max(net_g, 1.0) / 1000.0
    ref_kg = cls.prior_median / 1000.0
    raw = cls.price_per_kg_cents * kg * (kg / ref_kg) ** -0.2 * rng.lognormal(0.0, 0.35)
    return charm_price(raw)
