"""`cartctl replay TRACE... --out DIR`: recorded sessions through the cart, one report each."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from firmware.replay import CatalogCache, replay_path
from firmware.verifiers import VERIFIER_NAMES, make_verifier


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="replay cart-trace v1 sessions and write their reports",
        description="Replays each trace on a simulated clock through the cart pipeline and writes "
        "DIR/<trace folder name>.json (the cart-trace v1 report).",
    )
    parser.add_argument("traces", nargs="+", type=Path, metavar="TRACE", help="trace folder or trace.jsonl")
    parser.add_argument("--out", type=Path, help="folder for the reports (default: print them)")
    parser.add_argument("--verifier", choices=VERIFIER_NAMES, default=VERIFIER_NAMES[0])
    parser.add_argument("--quiet", action="store_true", help="only the summary line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    verifier = make_verifier(args.verifier)
    catalogs = CatalogCache()
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    failed = reviews = alerts = 0
    session_s = wall_s = 0.0
    for path in args.traces:
        result = replay_path(path, catalogs, verifier, frame_reader_factory=_frame_reader_factory())
        wall_s += result.wall_s
        if result.report is None:
            failed += 1
            print(f"error: {result.error}", file=sys.stderr)
            continue
        report = result.report
        session_s += result.session_s
        reviews += bool(report["review"]["required"])
        alerts += len(report["alerts"])
        text = json.dumps(report, indent=2)
        if args.out:
            (args.out / f"{result.name}.json").write_text(text + "\n", encoding="utf-8")
        elif not args.quiet:
            print(text)
        if args.out and not args.quiet:
            review = "review: " + ",".join(report["review"]["reasons"]) if report["review"]["required"] else "settled"
            print(
                f"{result.name}: {len(report['items'])} lines, total {report['total_cents']} cents, "
                f"{len(report['alerts'])} alerts, {review}"
            )
    done = len(args.traces) - failed
    speed = f"{session_s / wall_s:.0f}x real time" if wall_s > 0 else "n/a"
    print(
        f"replayed {done} of {len(args.traces)} traces ({failed} failed): {session_s:.0f} s of sessions in "
        f"{wall_s:.2f} s ({speed}), {reviews} need review, {alerts} alerts"
    )
    return 1 if failed else 0


def _frame_reader_factory():  # type: ignore[no-untyped-def]
    try:
        from firmware.camera.replay import frame_reader_for
    except ImportError:
        return None
    return frame_reader_for
