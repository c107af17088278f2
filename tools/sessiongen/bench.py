"""Benchmark and profile of the session generator: speed, size and what the generated world looks like.

Run: `.venv/bin/python -m tools.sessiongen.bench [--sessions 200] [--seed 1]`. Prints figures only;
nothing is asserted (targets belong to the benchmark, tests stay fast).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter

import numpy as np

from tools.sessiongen.dataset import session_id, session_kinds, store_for_seed
from tools.sessiongen.session import generate_session, write_session


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    store = store_for_seed(args.seed)
    t_store = time.perf_counter() - t0
    kinds = session_kinds(args.sessions, 0.5, args.seed)
    gen_s = write_s = 0.0
    size = 0
    samples = 0
    sim_s = 0.0
    stats: Counter = Counter()
    durations, units, noise = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i, kind in enumerate(kinds):
            t = time.perf_counter()
            s = generate_session(store, [args.seed, i], session_id(args.seed, i), kind, unit="g" if i % 2 else "counts")
            gen_s += time.perf_counter() - t
            t = time.perf_counter()
            path = write_session(s, tmp)
            write_s += time.perf_counter() - t
            size += path.stat().st_size
            samples += sum(len(line["values"]) for line in s.lines if line["type"] == "scale")
            sim_s += s.truth["duration_s"]
            durations.append(s.truth["duration_s"])
            units.append(len(s.truth["units"]))
            noise.append(s.truth["scale"]["noise_sd_g"])
            groups = Counter(store.by_code[u["code"]].group for u in s.truth["units"])
            stats.update(groups)
            stats["light units"] += sum(u["weight_g"] <= 40 for u in s.truth["units"])
            stats["heavy units"] += sum(u["weight_g"] >= 4000 for u in s.truth["units"])
            stats["removals"] += len(s.truth["removals"])
            stats["code events"] += sum(line["type"] == "code" for line in s.lines)
    n = max(args.sessions, 1)
    print(f"store: {len(store.products)} rows built in {t_store:.2f} s")
    gen_ms, write_ms = 1000 * gen_s / n, 1000 * write_s / n
    print(f"sessions: {args.sessions}; generate {gen_ms:.1f} ms/session, write {write_ms:.1f} ms/session")
    print(f"  => 1,000 sessions in about {(gen_s + write_s) / n * 1000:.0f} s (plus the store)")
    print(f"  trace size {size / n / 1e6:.2f} MB/session, {samples / n:.0f} samples/session")
    print(f"  simulated {sim_s / 3600:.1f} h of shopping, {sim_s / max(gen_s + write_s, 1e-9):.0f}x real time")
    print(f"duration s p5/p50/p95: {np.percentile(durations, [5, 50, 95]).round(0).tolist()}")
    print(f"units per trip p5/p50/p95: {np.percentile(units, [5, 50, 95]).tolist()}")
    print(f"scale noise g p5/p50/p95: {np.percentile(noise, [5, 50, 95]).round(2).tolist()}")
    print("totals: " + json.dumps(dict(stats)))
    print("kinds: " + json.dumps(dict(Counter(kinds))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
