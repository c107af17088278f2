"""Builds the demo session shipped in the repo (`firmware/demo/session/`): a small invented store
(our own product names and codes, no third-party data) and one honest shopping trip through the
session generator's physical world, so the demo cart sees real-looking scale data.

    .venv/bin/python -m tools.make_demo [--seed N] [--out firmware/demo/session]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from firmware.core.gtin import check_digit
from tools.sessiongen.catalog import Product, Store, write_catalog
from tools.sessiongen.produce import produce_kind
from tools.sessiongen.session import generate_session

OUT = Path(__file__).resolve().parents[1] / "firmware" / "demo" / "session"

# name, price (cents), true weight g, unit spread g, light/regular/heavy; codes are made up here
PACKED = [
    ("Tinned tomatoes 400 g", 129, 452.0, 3.0),
    ("Spaghetti 500 g", 149, 512.0, 4.0),
    ("Olive oil 750 ml", 799, 1180.0, 8.0),
    ("Oat flakes 500 g", 189, 520.0, 5.0),
    ("Coffee beans 250 g", 599, 268.0, 2.5),
    ("Orange juice 1 l", 249, 1085.0, 9.0),
    ("Rice 1 kg", 229, 1012.0, 6.0),
    ("Dark chocolate 100 g", 219, 108.0, 1.2),
    ("Chewing gum", 99, 21.5, 0.4),
    ("Peppercorns 40 g", 349, 46.0, 0.8),
    ("Sparkling water 6 x 1.5 l", 399, 9220.0, 40.0),
    ("Yoghurt strawberry 4 x 125 g", 189, 528.0, 4.0),
    ("Yoghurt vanilla 4 x 125 g", 199, 529.0, 4.0),
    ("Crispbread 250 g", 179, 262.0, 3.0),
]
PRODUCE = [("4011", "Bananas"), ("4131", "Apples"), ("4046", "Avocados"), ("4087", "Tomatoes")]


def demo_store() -> Store:
    products: list[Product] = []
    for i, (name, price, mean, sd) in enumerate(PACKED):
        body = f"20{i:02d}0000{i:04d}"  # 12 digits before the check digit: not a 2x in-store code
        body = "4" + body[1:]
        code = body + str(check_digit(body))
        twin = 1 if name.startswith("Yoghurt") else None
        products.append(Product(code, name, price, "each", "packaged", "demo", mean, sd, mean, sd, "ok", twin))
    for plu, name in PRODUCE:
        kind = produce_kind(name)
        assert kind is not None, name
        weight = kind.piece_g if kind.sold_by == "each" else None
        products.append(
            Product(
                plu,
                name,
                kind.price_cents,
                kind.sold_by,
                "produce",
                kind.pattern,
                kind.piece_g,
                kind.piece_g * kind.piece_cv,
                weight,
                None,
                "ok" if weight else "none",
                produce=kind,
            )
        )
    return Store.from_products(products)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    store = demo_store()
    session = generate_session(
        store, args.seed, "demo", "honest", 80.0, "counts", catalog_ref="catalog.csv", cart_id="demo-cart"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    write_catalog(store, args.out / "catalog.csv")
    with (args.out / "trace.jsonl").open("w", encoding="utf-8") as f:
        for line in session.lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    # ground truth is never inside a trace folder: it sits beside it
    truth = args.out.parent / f"{args.out.name}.truth.json"
    truth.write_text(json.dumps(session.truth, indent=1) + "\n", encoding="utf-8")
    minutes = session.truth["duration_s"] / 60
    print(f"demo session: {len(session.truth['items'])} lines, {minutes:.1f} min, into {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
