"""Cart-core benchmark: generated sessions (honest and with one incident each) through the replay
pipeline, scored against their ground truth. Prints the figures the project is judged by.

    .venv/bin/python -m tools.bench_core --sessions 1000 --seed 9001
    .venv/bin/python -m tools.bench_core --sessions 200 --seed 7 --save-failures /tmp/fails

Sessions are generated in memory (the same generator `cartctl generate` writes to disk) and each
worker process replays its share; use a seed that was never used to tune or train anything.

By default the store is new: 10 carts, each learning only from its own sessions. `--warmup N` measures
a store in service instead: N other sessions (same store, other shoppers, the same share of
incidents) run first on the same carts, and what they learned is pooled into one book every cart
starts from, as the store's fleet weighings (`/v1/carts/{cart}/fleet-weighings`) do in service:
units weighed alone in the sessions the carts settled, and in those staff reviewed (staff count
what is in the cart; a product they recount teaches nothing).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from firmware.core.catalog import Catalog, parse_catalog
from firmware.core.trace import Trace, parse_trace_lines
from firmware.core.weightbook import WeightBook
from firmware.pipeline import CartPipeline
from firmware.replay import replay_session, replay_trace
from firmware.sync.outbox import weighings as outbox_weighings
from firmware.verifiers import VERIFIER_NAMES, make_verifier
from tools.failure_causes import CAUSES, failure_cause
from tools.scoring import Score, product_key, score
from tools.sessiongen.catalog import catalog_csv, write_catalog
from tools.sessiongen.dataset import session_id, session_kinds, store_for_seed
from tools.sessiongen.session import generate_session, write_session

_worker: dict[str, Any] = {}
WARMUP_STREAM = 0x3A12  # rng stream of the warm-up sessions, apart from the measured ones


def store_catalog(store: Any, seed: int) -> Catalog:
    """A generated store's catalog as the cart loads it (built in memory: no file left behind)."""
    return parse_catalog(catalog_csv(store), source=f"generated store {seed}")


def session_trace(session: Any) -> Trace:
    """A generated session's trace as the replay reads it (never written to disk)."""
    lines = [json.dumps(line) for line in session.lines]
    return parse_trace_lines(Path(session.session_id) / "trace.jsonl", lines)


def _init(seed: int, verifier: str, save: str | None, learn: bool, sps: float = 80.0) -> None:
    store = store_for_seed(seed)
    _worker.update(
        store=store,
        catalog=store_catalog(store, seed),
        verifier=make_verifier(verifier),
        seed=seed,
        save=Path(save) if save else None,
        learn=learn,
        book=None,
        sps=sps,
        weighs={p.code: (p.catalog_weight_g, p.sold_by == "weight") for p in store.products},
    )


def _run_cart(cart: tuple[list[tuple[int, str]], dict[str, Any]]) -> list[tuple[Score, float, float, str]]:
    """One cart's sessions in order; with learning on, the cart's weight book carries across them."""
    jobs, start = cart
    _worker["book"] = (WeightBook.from_dict(start) if start else WeightBook()) if _worker["learn"] else None
    return [_run_one(job) for job in jobs]


def _warm_cart(jobs: list[tuple[int, str]]) -> dict[str, Any]:
    """Sessions before the measured ones (other shoppers, same store): only what the cart learns is kept.
    A session the cart sent to review is decided by staff, who count what is in the cart: the units it
    weighed alone that they keep on the bill are learned too, as the store's fleet weighings hand them out."""
    book = WeightBook()
    seed, store, catalog = _worker["seed"], _worker["store"], _worker["catalog"]
    for index, kind in jobs:
        sid = f"warm-{seed}-{index:05d}"
        session, trace = _generated(store, [seed, WARMUP_STREAM, index], sid, kind, "g")
        pipeline, report = replay_session(trace, catalog, _worker["verifier"], book=book)
        if report["review"]["required"]:
            for key, grams in _staff_vouched(pipeline, sid, report, session.truth["items"]):
                book.observe(key, grams)
    return book.to_dict()


def _staff_vouched(
    pipeline: CartPipeline, sid: str, report: dict[str, Any], truth: list[dict[str, Any]]
) -> list[tuple[str, float]]:
    """(product, grams) of the weighings staff vouch for when they correct the bill to what the cart holds,
    by the store's own rule (`cart_store.decisions.confirmed_weighings`), codes compared as products."""
    from cart_store.decisions import confirmed_weighings

    def keyed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "code": product_key(row["code"]) if row["code"] is not None else None} for row in rows]

    weighings = keyed(outbox_weighings(pipeline.journal, sid, report))
    vouched = confirmed_weighings(weighings, keyed(truth), {}, keyed(report["items"]))
    return [(code, grams) for code, grams, source in vouched if source == "approved"]


def _generated(store: Any, rng_seed: list[int], sid: str, kind: str, unit: str) -> tuple[Any, Trace]:
    """A session from the generator, and its trace as the replay reads it (never written to disk)."""
    session = generate_session(store, rng_seed, sid, kind, _worker.get("sps", 80.0), unit)
    return session, session_trace(session)


def _run_one(job: tuple[int, str]) -> tuple[Score, float, float, str]:
    index, kind = job
    seed, store, catalog = _worker["seed"], _worker["store"], _worker["catalog"]
    sid = session_id(seed, index)
    unit = "counts" if index % 2 else "g"
    session, trace = _generated(store, [seed, index], sid, kind, unit)
    catalog_: Catalog = catalog
    started = time.perf_counter()
    report = replay_trace(trace, catalog_, _worker["verifier"], book=_worker["book"])
    wall = time.perf_counter() - started
    result = score(report, session.truth)
    result.cause = failure_cause(result, session.truth, report, _worker["weighs"])
    save: Path | None = _worker["save"]
    if save is not None and (result.failed or result.silent_overcharge):
        save.mkdir(parents=True, exist_ok=True)
        write_catalog(store, save / "catalog.csv")
        write_session(session, save)
        (save / "reports").mkdir(exist_ok=True)
        (save / "reports" / f"{sid}.json").write_text(json.dumps(report, indent=1))
    return result, trace.end_t, wall, sid


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=9001)
    parser.add_argument("--incident-rate", type=float, default=0.5)
    parser.add_argument("--verifier", choices=VERIFIER_NAMES, default=VERIFIER_NAMES[0])
    parser.add_argument("--workers", type=int, default=max(1, multiprocessing.cpu_count()))
    parser.add_argument("--save-failures", help="write failing sessions (trace, truth, report) here")
    parser.add_argument(
        "--carts",
        type=int,
        default=10,
        help="the sessions are shared between this many carts, each learning as it goes",
    )
    parser.add_argument("--no-learning", action="store_true", help="every session on a cart that never learns")
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="first run this many other sessions in the same store, pooling what the carts learned "
        "into a store-wide weight book every cart starts from (a store in service, not a new one)",
    )
    parser.add_argument(
        "--sps", type=float, default=80.0, help="the scale's sample rate (an HX711 runs at 80, or 10 when so strapped)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)

    kinds = session_kinds(args.sessions, args.incident_rate, args.seed)
    jobs = list(enumerate(kinds))
    carts = max(1, args.carts)
    per_cart = [jobs[i * len(jobs) // carts : (i + 1) * len(jobs) // carts] for i in range(carts)]
    started = time.perf_counter()
    init = (args.seed, args.verifier, args.save_failures, not args.no_learning, args.sps)
    store_book = WeightBook()
    with multiprocessing.Pool(args.workers, _init, init) as pool:
        if args.warmup > 0 and not args.no_learning:
            warm = list(enumerate(session_kinds(args.warmup, args.incident_rate, args.seed + WARMUP_STREAM)))
            chunks = [warm[i * len(warm) // carts : (i + 1) * len(warm) // carts] for i in range(carts)]
            for book in pool.map(_warm_cart, chunks, chunksize=1):
                store_book.merge(WeightBook.from_dict(book))
        start = store_book.to_dict()
        results = [r for cart in pool.map(_run_cart, [(c, start) for c in per_cart], chunksize=1) for r in cart]
    elapsed = time.perf_counter() - started
    figures = summarise(results)
    figures.update(
        seed=args.seed,
        verifier=args.verifier,
        sps=args.sps,
        bench_wall_s=round(elapsed, 1),
        learning="off"
        if args.no_learning
        else f"{carts} carts" + (f" after {args.warmup} sessions" if args.warmup else ""),
    )
    print_figures(figures, results)
    if args.json:
        print(json.dumps(figures, indent=1))
    return 0


def summarise(results: list[tuple[Score, float, float, str]]) -> dict[str, Any]:
    honest = [r for r, _, _, _ in results if r.honest]
    incidents = [r for r, _, _, _ in results if not r.honest]
    speeds = [end / wall for _, end, wall, _ in results if wall > 0]
    by_kind: dict[str, dict[str, int]] = {}
    for r in incidents:
        entry = by_kind.setdefault(r.kind, {"sessions": 0, "caught": 0})
        entry["sessions"] += 1
        entry["caught"] += r.caught
    n_h = max(1, len(honest))
    return {
        "sessions": len(results),
        "honest": len(honest),
        "incidents": len(incidents),
        "honest_reviews_per_1000": round(1000 * sum(r.review for r in honest) / n_h, 1),
        "honest_billed_exactly_pct": round(100 * sum(r.exact for r in honest) / n_h, 2),
        "honest_alerts_per_session": round(sum(r.alerts for r in honest) / n_h, 3),
        "incidents_caught_pct": round(100 * sum(r.caught for r in incidents) / max(1, len(incidents)), 2),
        "incidents_by_kind": by_kind,
        "silent_overcharges": sum(r.silent_overcharge for r, _, _, _ in results),
        "honest_review_reasons": dict(Counter(reason for r in honest if r.review for reason in r.reasons)),
        "failure_causes": _causes([r for r, _, _, _ in results]),
        "replay_speed_x_median": round(statistics.median(speeds), 0) if speeds else None,
        "replay_speed_x_min": round(min(speeds), 0) if speeds else None,
        "session_minutes_median": round(statistics.median(end for _, end, _, _ in results) / 60, 1),
    }


def _causes(scores: list[Score]) -> dict[str, dict[str, int]]:
    """Failed sessions by cause: honest ones needing review or billed wrong, incidents missed, and
    silent overcharges (a session may count in two columns)."""
    out: dict[str, dict[str, int]] = {}
    for r in scores:
        if r.cause is None:
            continue
        entry = out.setdefault(r.cause, {"honest_failed": 0, "incidents_missed": 0, "silent_overcharges": 0})
        if r.failed:
            entry["honest_failed" if r.honest else "incidents_missed"] += 1
        entry["silent_overcharges"] += r.silent_overcharge
    return {cause: out[cause] for cause in CAUSES if cause in out}


def print_figures(f: dict[str, Any], results: list[tuple[Score, float, float, str]]) -> None:
    rate = "" if f.get("sps", 80.0) == 80.0 else f", scale at {f['sps']:g} samples/s"
    print(
        f"cart-core benchmark: {f['sessions']} sessions (seed {f['seed']}, verifier {f['verifier']}, "
        f"weight learning: {f['learning']}{rate}), "
        f"{f['honest']} honest, {f['incidents']} with one incident; {f['bench_wall_s']} s"
    )
    print(f"  honest sessions needing review   {f['honest_reviews_per_1000']:8.1f} per 1,000   (goal <= 10)")
    print(f"  honest sessions billed exactly   {f['honest_billed_exactly_pct']:8.2f} %         (goal >= 99)")
    print(f"  alerts per honest session        {f['honest_alerts_per_session']:8.3f}")
    print(f"  incidents caught                 {f['incidents_caught_pct']:8.2f} %         (goal >= 99)")
    for kind, entry in sorted(f["incidents_by_kind"].items()):
        print(f"    {kind:<28}{entry['caught']:5d} / {entry['sessions']}")
    print(f"  silent overcharges               {f['silent_overcharges']:8d}           (goal 0)")
    print(
        f"  replay speed                     {f['replay_speed_x_median']:8.0f} x real time (median), "
        f"{f['replay_speed_x_min']:.0f} x (slowest); sessions {f['session_minutes_median']} min median"
    )
    if f["honest_review_reasons"]:
        print(f"  why honest sessions went to review: {f['honest_review_reasons']}")
    if f["failure_causes"]:
        print("  failures by cause (honest sessions reviewed or billed wrong / incidents missed / silent overcharges):")
        for cause, n in f["failure_causes"].items():
            print(f"    {cause:<42}{n['honest_failed']:4d} {n['incidents_missed']:4d} {n['silent_overcharges']:4d}")
    overcharged = [sid for r, _, _, sid in results if r.silent_overcharge]
    if overcharged:
        print(f"  silently overcharged: {', '.join(overcharged[:10])}{' ...' if len(overcharged) > 10 else ''}")
    missed = [sid for r, _, _, sid in results if not r.honest and not r.caught]
    if missed:
        print(f"  missed incidents: {', '.join(missed[:10])}{' ...' if len(missed) > 10 else ''}")


if __name__ == "__main__":
    sys.exit(main())
