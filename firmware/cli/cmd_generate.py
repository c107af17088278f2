"""`cartctl generate`: write a set of simulated shopping sessions (traces + separate ground truth).

The sessions come from `tools.sessiongen`, a physical model of the store, the scale and the shopper
that is independent of the cart's algorithms; the benchmark replays them and grades the bills.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate", help="generate simulated shopping sessions with ground truth", description=__doc__
    )
    p.add_argument("--out", required=True, type=Path, help="output folder (catalog.csv, <session>/, truth/)")
    p.add_argument("--sessions", required=True, type=int, help="number of sessions")
    p.add_argument("--seed", required=True, type=int, help="seed; the same seed gives the same set")
    p.add_argument(
        "--incident-rate", type=float, default=0.5, help="share of sessions with one incident each (default 0.5)"
    )
    p.add_argument("--sps", type=float, default=80.0, help="scale samples per second (default 80)")
    p.add_argument(
        "--unit",
        choices=("g", "counts", "mixed"),
        default="mixed",
        help="scale values in grams, raw counts, or half and half (default mixed)",
    )
    p.add_argument("--off-csv", type=Path, default=None, help="Open Food Facts slice (default ../shared/data)")
    p.add_argument("--plu-json", type=Path, default=None, help="PLU list (default ../shared/data)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tools.sessiongen.catalog import DEFAULT_OFF_CSV, DEFAULT_PLU_JSON
    from tools.sessiongen.dataset import generate_dataset

    if args.sessions < 0:
        print("cartctl generate: --sessions must be >= 0", file=sys.stderr)
        return 2
    if not args.sps > 0:
        print("cartctl generate: --sps must be positive", file=sys.stderr)
        return 2
    if not 0.0 <= args.incident_rate <= 1.0:
        print("cartctl generate: --incident-rate must be within 0..1", file=sys.stderr)
        return 2
    tty = sys.stdout.isatty()

    def progress(done: int, total: int) -> None:
        width = 40
        filled = width * done // max(total, 1)
        sys.stdout.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stdout.write("\n")
        sys.stdout.flush()

    start = time.perf_counter()
    try:
        manifest = generate_dataset(
            args.out,
            args.sessions,
            args.seed,
            args.incident_rate,
            args.sps,
            args.unit,
            args.off_csv or DEFAULT_OFF_CSV,
            args.plu_json or DEFAULT_PLU_JSON,
            progress if tty else None,
        )
    except (FileNotFoundError, ValueError, OSError) as e:
        print(f"cartctl generate: {e}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(manifest["kinds"].items()))
    print(f"generated {args.sessions} sessions in {elapsed:.1f} s into {args.out} ({kinds})")
    return 0
