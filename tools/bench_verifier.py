"""Model verifier against the rule, end to end, on fresh generated sessions; prints a table.

    .venv/bin/python -m tools.bench_verifier --sessions 1000 --seed 4242

Every verifier runs the same sessions through `tools.bench_core`'s machinery (sessions shared
between learning carts, scored against ground truth): honest sessions sent to review per 1,000,
alerts per honest session, incidents caught, silent overcharges. Then the cost of one check
(float and int8, on questions the core really asked) and the model files' sizes. Use a seed the
training never used (`tools/train_verifier.py` uses 101-104, 201-204, 301 and 401-403).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from firmware.core.verifier import FitQuery, RuleVerifier, Verifier
from firmware.replay import replay_trace
from firmware.verifiers import make_verifier
from tools.bench_core import session_trace
from tools.sessiongen.dataset import session_id, session_kinds
from tools.sessiongen.session import generate_session
from tools.verifier_data import CARTS, Recorder, _store, evaluate

TRAINING_SEEDS = {101, 102, 103, 104, 201, 202, 203, 204, 301, 401, 402, 403}


def real_queries(seed: int, sessions: int) -> list[FitQuery]:
    """The placement questions the core asks the rule in a few sessions (as the timing sample). Removals
    are left out: the model verifier hands them to the rule, so they would time the rule twice."""
    from tools import verifier_data

    verifier_data._worker["stores"] = {}
    _, catalog = _store(seed)
    store, _ = verifier_data._worker["stores"][seed]
    recorder = Recorder(RuleVerifier())
    for index, kind in enumerate(session_kinds(sessions, 0.5, seed + 1)):
        sid = session_id(seed, 90000 + index)
        session = generate_session(store, [seed, 90000 + index], sid, kind, 80.0, "g")
        trace = session_trace(session)
        replay_trace(trace, catalog, recorder)
    return [a.query for a in recorder.asked if a.query.expected_g is not None and not a.query.measured]


def time_per_check_us(verifier: Verifier, queries: list[FitQuery], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for query in queries:
            verifier.fit(query)
        runs.append((time.perf_counter() - started) / len(queries))
    return 1e6 * min(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--verifiers", nargs="+", default=["rule", "model", "model-int8"])
    parser.add_argument("--carts", type=int, default=CARTS)
    parser.add_argument("--workers", type=int, default=max(1, multiprocessing.cpu_count()))
    parser.add_argument("--json", type=Path, help="write the figures here as JSON too")
    args = parser.parse_args(argv)
    if args.seed in TRAINING_SEEDS:
        print(f"warning: seed {args.seed} was used in training; the figures are not a fair test", file=sys.stderr)

    figures: dict[str, dict[str, Any]] = {}
    for name in args.verifiers:
        started = time.perf_counter()
        fig, _ = evaluate(
            args.seed, args.sessions, functools.partial(make_verifier, name), args.workers, carts=args.carts
        )
        fig["bench_wall_s"] = round(time.perf_counter() - started, 1)
        figures[name] = fig
        print(f"  {name}: done in {fig['bench_wall_s']} s", file=sys.stderr, flush=True)

    queries = real_queries(args.seed, 12)
    for name in args.verifiers:
        verifier = make_verifier(name)
        figures[name]["check_us"] = round(time_per_check_us(verifier, queries), 1)
        path = getattr(verifier, "path", None)
        figures[name]["size_bytes"] = path.stat().st_size if path is not None else None
    print_table(figures, args)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "sessions": args.sessions, "figures": figures}, indent=1))
    return 0


def print_table(figures: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    first = next(iter(figures.values()))
    print(
        f"verifier benchmark: {first['sessions']} sessions (seed {args.seed}, {args.carts} learning carts), "
        f"{first['honest']} honest, {first['incidents']} with one incident"
    )
    head = (
        f"{'verifier':<12}{'reviews/1000':>13}{'alerts/honest':>14}{'caught %':>10}{'silent over':>12}"
        f"{'exact %':>9}{'us/check':>10}{'size B':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, f in figures.items():
        size = "-" if f["size_bytes"] is None else str(f["size_bytes"])
        print(
            f"{name:<12}{f['honest_reviews_per_1000']:>13.1f}{f['honest_alerts_per_session']:>14.3f}"
            f"{f['incidents_caught_pct']:>10.2f}{f['silent_overcharges']:>12d}{f['honest_billed_exactly_pct']:>9.2f}"
            f"{f['check_us']:>10.1f}{size:>8}"
        )
    print("goal: fewer reviews and alerts than the rule, <= 10 reviews per 1,000 honest, >= 99 % caught")
    for name, f in figures.items():
        kinds = ", ".join(f"{k} {v['caught']}/{v['sessions']}" for k, v in sorted(f["incidents_by_kind"].items()))
        print(f"  {name}: caught by kind: {kinds}; honest review reasons: {f['honest_review_reasons']}")
    speeds = [f["replay_speed_x_median"] for f in figures.values() if f.get("replay_speed_x_median")]
    if speeds:
        print(f"  replay speed (median x real time): {statistics.median(speeds):.0f}")


if __name__ == "__main__":
    sys.exit(main())
