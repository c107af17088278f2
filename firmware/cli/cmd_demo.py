"""`cartctl demo`: an emulated cart playing the demo session shipped in the repo, bill at the end."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from firmware.core.catalog import load_catalog
from firmware.core.events import SessionEnded
from firmware.core.fusion import Effect
from firmware.core.money import bill_row, format_cents
from firmware.core.trace import read_trace
from firmware.pipeline import CartPipeline

DEMO_TRACE = Path(__file__).resolve().parent.parent / "demo" / "session"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="play the demo shopping session on an emulated cart")
    parser.add_argument("--trace", type=Path, default=DEMO_TRACE, help="another cart-trace v1 session to play")
    parser.add_argument("--speed", type=float, default=20.0, help="times real time (0: as fast as possible)")
    parser.add_argument("--currency", default="EUR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    trace = read_trace(args.trace)
    catalog = load_catalog(trace.header.catalog_path)
    pipeline = CartPipeline(catalog, trace.header.session_id or trace.name, cart_id=trace.header.cart_id)
    currency = args.currency

    def show(effect: Effect) -> None:
        data = effect.data
        total = format_cents(pipeline.fusion.basket.total_cents(), currency)
        if effect.kind == "cart.item_added":
            weight = f" {data['weight_g']:.0f} g" if data.get("weight_g") else ""
            print(
                f"{effect.t:7.1f} s  + {data['code']:<14}{weight:>9}  {format_cents(data['amount_cents'], currency):>9}"
                f"   total {total}"
            )
        elif effect.kind == "cart.item_removed":
            print(
                f"{effect.t:7.1f} s  - {data['code']:<14}{'':>9}  {format_cents(-data['amount_cents'], currency):>9}"
                f"   total {total}"
            )
        elif effect.kind in ("alert.raised", "alert.resolved"):
            word = "ALERT" if effect.kind == "alert.raised" else "resolved"
            print(f"{effect.t:7.1f} s  ! {word} {data['alert']}: {data.get('detail') or data.get('why')}")
        elif effect.kind == "scan.pending":
            print(f"{effect.t:7.1f} s  ~ scanned {data['name']} ({format_cents(data['price_cents'], currency)})")

    pipeline.listeners.append(show)
    print(f"demo cart {trace.header.cart_id or '-'}: session {pipeline.session_id}, catalog {len(catalog)} products")
    started = time.monotonic()
    for event in trace.events:
        if args.speed > 0:
            delay = event.t / args.speed - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
        pipeline.feed(event)
        if isinstance(event, SessionEnded):
            break
    report = pipeline.close()
    print("\nbill")
    for item in report["items"]:
        print(bill_row(item["name"], item["amount_cents"], currency, item["qty"], item["weight_g"]))
    print(bill_row("total", report["total_cents"], currency))
    review = report["review"]
    print("review: " + (", ".join(review["reasons"]) if review["required"] else "not needed, settled by the cart"))
    return 0
