"""Benchmark checkout sync: sessions/s ingested and upload latency (p50/p99) on SQLite and
PostgreSQL, against a real `cart-store` process on 127.0.0.1, then the chaos run's figures.

    .venv/bin/python -m tools.bench_store [--carts 4] [--sessions 100] [--chaos-carts 3] ...

PostgreSQL is measured with a throwaway cluster (fsync on) when Debian's binaries are installed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from firmware.journal import Journal
from firmware.sync.client import StoreClient
from tools.store_chaos import register_carts, run_chaos
from tools.store_harness import PgCluster, StoreProcess, shop


def payloads(cart_id: str, count: int, seed: int) -> list[dict[str, Any]]:
    journal, rng = Journal(None), random.Random(seed)
    for n in range(count):
        shop(journal, cart_id, f"{cart_id}-b{n}", rng)
    return [row.payload for row in journal.outbox_due(1e12, limit=count)]


def ingest_bench(db_url: str, workdir: Path, carts: int, sessions: int) -> dict[str, Any]:
    server = StoreProcess(db_url, log_path=workdir / "store.log")
    credentials = register_carts(db_url, workdir, server.url, carts)
    messages = {c.cart_id: payloads(c.cart_id, sessions, i) for i, c in enumerate(credentials)}
    server.start()
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def upload(credential: Any) -> None:
        with StoreClient(credential, timeout_s=30.0) as client:
            for payload in messages[credential.cart_id]:
                started = time.perf_counter()
                reply = client.put_session_message(payload)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if reply.status != 201:
                        failures.append(reply.status)

    threads = [threading.Thread(target=upload, args=(c,)) for c in credentials]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall_s = time.perf_counter() - started
    server.stop()
    ordered = sorted(latencies)
    return {
        "sessions": len(latencies),
        "failures": len(failures),
        "wall_s": round(wall_s, 2),
        "sessions_per_s": round(len(latencies) / wall_s, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "mean_body_kb": round(sum(len(json.dumps(p)) for m in messages.values() for p in m) / len(latencies) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--carts", type=int, default=4, help="carts uploading at once")
    parser.add_argument("--sessions", type=int, default=100, help="sessions per cart")
    parser.add_argument("--chaos-carts", type=int, default=3)
    parser.add_argument("--chaos-sessions", type=int, default=10)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--no-postgresql", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    cluster = None
    if not args.no_postgresql and PgCluster.find_bin() is not None:
        cluster = PgCluster(fsync=True)
        cluster.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            root = Path(tmp)
            backends = [("sqlite", lambda name: f"sqlite:///{root / name}.db")]
            if cluster is not None:
                backends.append(("postgresql", cluster.create_database))
            for backend, make_url in backends:
                work = root / f"ingest-{backend}"
                work.mkdir()
                results[f"ingest_{backend}"] = ingest_bench(make_url("ingest"), work, args.carts, args.sessions)
                print(f"ingest {backend}: {json.dumps(results[f'ingest_{backend}'])}", flush=True)
                figures = run_chaos(
                    make_url("chaos"),
                    root / f"chaos-{backend}",
                    carts=args.chaos_carts,
                    sessions=args.chaos_sessions,
                    kills=args.kills,
                    timeout_s=300.0,
                )
                results[f"chaos_{backend}"] = figures.as_dict()
                print(f"chaos {backend}: {json.dumps(figures.as_dict())}", flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    if cluster is None:
        print("postgresql: not measured (no /usr/lib/postgresql/*/bin/initdb)", file=sys.stderr)
    bad = [k for k, v in results.items() if v.get("problems") or v.get("failures")]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
