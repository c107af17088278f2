"""Benchmark the weight book on the cart's disk (`firmware/daemon/bookstore.py`) at its worst: every
product of a store's catalog weighed `KEPT` times. Prints the file size, the daemon's start-up load,
the memory the book takes, and the write after each session, against the whole-book JSON file the
daemon rewrote before.

    .venv/bin/python -m tools.bench_book [--products N] [--sessions 200] [--per-session 20]

`--products` defaults to the rows of the real catalog in ../shared/data/catalog (6,000 and more).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from firmware.core.weightbook import KEPT, WeightBook
from firmware.daemon.bookstore import BookStore
from firmware.fileio import write_atomic

SHARED_CATALOG = Path(__file__).resolve().parents[1].parent / "shared/data/catalog/off_products_slim.csv"


def default_products() -> int:
    if SHARED_CATALOG.exists():
        with SHARED_CATALOG.open(encoding="utf-8") as handle:
            return sum(1 for _ in handle) - 1
    print(f"{SHARED_CATALOG} absent: using 6,000 products", file=sys.stderr)
    return 6000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=0, help="products weighed (default: the shared catalog's)")
    parser.add_argument("--sessions", type=int, default=200, help="sessions saved after the book is full")
    parser.add_argument("--per-session", type=int, default=20, help="weighings a settled session teaches")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    products = args.products or default_products()
    rng = random.Random(args.seed)
    keys = [f"{i:013d}" for i in range(products)]
    true_g = {key: rng.uniform(10.0, 2000.0) for key in keys}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.db"
        store = BookStore(path)
        book = store.load()
        for _ in range(KEPT):
            for key in keys:
                book.observe(key, true_g[key] * rng.gauss(1.0, 0.01))
        store.save(book)
        store.close()
        db_bytes = path.stat().st_size + sum(p.stat().st_size for p in Path(tmp).glob("weights.db-*"))

        started = time.perf_counter()
        store = BookStore(path)
        tracemalloc.start()
        book = store.load()
        book_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        load_s = time.perf_counter() - started

        saves, rewrites = [], []
        json_path = Path(tmp) / "weights.json"
        for _ in range(args.sessions):
            for key in rng.sample(keys, min(args.per_session, products)):
                book.observe(key, true_g[key] * rng.gauss(1.0, 0.01))
            started = time.perf_counter()
            store.save(book)
            saves.append(time.perf_counter() - started)
        for _ in range(min(args.sessions, 20)):  # the old way: the whole book, rewritten atomically
            started = time.perf_counter()
            write_atomic(json_path, json.dumps(book.to_dict()))
            rewrites.append(time.perf_counter() - started)
        store.close()
        json_bytes = json_path.stat().st_size
        json_started = time.perf_counter()
        WeightBook.from_dict(json.loads(json_path.read_text(encoding="utf-8")))
        json_load_s = time.perf_counter() - json_started

    def ms(values: list[float], q: float) -> float:
        return 1000.0 * statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 1000.0 * values[0]

    print(f"weight book: {products} products x {KEPT} weighings = {products * KEPT} rows")
    print(
        f"  weights.db: {db_bytes / 1e6:.2f} MB on disk; start-up load {load_s * 1000:.0f} ms; "
        f"in memory {book_bytes / 1e6:.1f} MB"
    )
    print(
        f"  save after a session ({args.per_session} weighings, fsync): "
        f"p50 {ms(saves, 50):.1f} ms, p99 {ms(saves, 99):.1f} ms, over {len(saves)} sessions"
    )
    print(
        f"  before (weights.json rewritten whole): {json_bytes / 1e6:.2f} MB a session, "
        f"p50 {ms(rewrites, 50):.0f} ms; load {json_load_s * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
