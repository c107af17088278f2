"""Chaos run for checkout sync: N emulated carts x M sessions against a real `cart-store` process
that is killed with -9 and restarted at random moments, through a proxy that cuts connections.

Afterwards every cart's outbox must be empty and the store must hold every session exactly once,
with the cart's total and the answer the cart was given. `run_chaos` returns the figures and the
list of problems found (empty when all is well); tests/sync and tools/bench_store.py call it.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from firmware.journal import Journal
from firmware.sync.client import StoreClient
from firmware.sync.credentials import Credential, make_credential, save_credential
from firmware.sync.delivery import Backoff, DeliveryWorker
from tools.chaos_proxy import ChaosProxy
from tools.store_harness import StoreProcess, shop, store_admin


@dataclass
class ChaosFigures:
    carts: int
    sessions_per_cart: int
    kills: int = 0
    connections: int = 0
    cuts: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    network_errors: int = 0
    server_errors: int = 0
    replayed_answers: int = 0
    server_replays: int = 0
    stored_sessions: int = 0
    elapsed_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def register_carts(db_url: str, workdir: Path, store_url: str, count: int) -> list[Credential]:
    credentials, args = [], []
    for i in range(count):
        credential = make_credential(f"cart-{i + 1}", store_url)
        path = workdir / f"cart-{i + 1}.credential.json"
        save_credential(path, credential)
        credentials.append(credential)
        args += ["--credential", str(path)]
    store_admin(db_url, "add-cart", *args)
    return credentials


def run_chaos(
    db_url: str,
    workdir: Path,
    *,
    carts: int = 3,
    sessions: int = 5,
    kills: int = 3,
    cut_probability: float = 0.25,
    seed: int = 1,
    timeout_s: float = 60.0,
) -> ChaosFigures:
    workdir.mkdir(parents=True, exist_ok=True)
    figures = ChaosFigures(carts, sessions)
    server = StoreProcess(db_url, log_path=workdir / "store.log")
    proxy = ChaosProxy(server.port, cut_probability=cut_probability, seed=seed)
    credentials = register_carts(db_url, workdir, proxy.url, carts)
    server.start()
    proxy.start()
    rng = random.Random(seed)
    shopping_window_s = kills * 2.5  # each kill, restart and pause takes about 1-2.5 s
    started = time.monotonic()
    done = threading.Event()
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(
            target=_cart,
            args=(c, workdir, sessions, shopping_window_s, seed + i, started + timeout_s, results),
            daemon=True,
        )
        for i, c in enumerate(credentials)
    ]
    for thread in threads:
        thread.start()
    chaos = threading.Thread(target=_chaos, args=(server, rng, kills, done, figures), daemon=True)
    chaos.start()
    for thread in threads:
        thread.join(timeout=max(started + timeout_s + 5 - time.monotonic(), 0.1))
    done.set()
    chaos.join(timeout=30)
    figures.elapsed_s = round(time.monotonic() - started, 2)
    proxy.enabled = False
    try:
        if server.proc is None or server.proc.poll() is not None:
            server.start()
        _verify(db_url, workdir, credentials, sessions, results, figures)
    finally:
        proxy.stop()
        server.stop()
    figures.connections = proxy.counts["connections"]
    figures.cuts = {mode: n for mode, n in proxy.counts.items() if mode != "connections"}
    return figures


def _cart(
    credential: Credential,
    workdir: Path,
    sessions: int,
    window_s: float,
    seed: int,
    deadline: float,
    results: dict[str, Any],
) -> None:
    """Shop `sessions` sessions spread over `window_s`, delivering as it goes, then drain."""
    rng = random.Random(seed)
    journal = Journal(workdir / f"{credential.cart_id}.journal.db")
    reports = {}
    with StoreClient(credential, timeout_s=3.0) as client:
        worker = DeliveryWorker(
            journal, client, rng=random.Random(seed), backoff=Backoff(base_s=0.05, cap_s=0.5, parked_s=0.5)
        )
        gaps = sorted(rng.uniform(0.0, window_s) for _ in range(sessions))
        start = time.monotonic()
        for n, at in enumerate(gaps):
            while time.monotonic() - start < at:
                worker.deliver_due()
                time.sleep(0.02)
            session_id = f"{credential.cart_id}-s{n + 1}"
            reports[session_id] = shop(journal, credential.cart_id, session_id, rng)
        worker.drain(max(deadline - time.monotonic(), 0.0), idle_s=0.1)
        results[credential.cart_id] = {"reports": reports, "stats": worker.stats, "journal": journal.path}
    journal.close()


def _chaos(server: StoreProcess, rng: random.Random, kills: int, done: threading.Event, figures: ChaosFigures) -> None:
    for _ in range(kills):
        if done.wait(rng.uniform(0.2, 0.8)):
            return
        server.kill()
        figures.kills += 1
        time.sleep(rng.uniform(0.0, 0.3))
        server.start()


def _verify(
    db_url: str,
    workdir: Path,
    credentials: list[Credential],
    sessions: int,
    results: dict[str, Any],
    figures: ChaosFigures,
) -> None:
    problems = figures.problems
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.connect() as db:
        stored = {
            (r.cart_id, r.session_id): r
            for r in db.execute(text("SELECT cart_id, session_id, total_cents, receipt_id, status FROM sessions"))
        }
        copies = db.execute(
            text("SELECT cart_id, session_id, COUNT(*) AS n FROM messages GROUP BY cart_id, session_id")
        ).all()
        charges = db.execute(text("SELECT session_pk, COUNT(*) AS n FROM charges GROUP BY session_pk")).all()
        figures.server_replays = int(db.execute(text("SELECT COALESCE(SUM(replays), 0) FROM messages")).scalar())
    engine.dispose()
    figures.stored_sessions = len(stored)
    problems += [f"{r.cart_id}/{r.session_id} stored {r.n} times" for r in copies if r.n != 1]
    problems += [f"session #{r.session_pk} charged {r.n} times" for r in charges if r.n != 1]
    for credential in credentials:
        result = results.get(credential.cart_id)
        if result is None:
            problems.append(f"{credential.cart_id} did not finish")
            continue
        stats = result["stats"]
        figures.attempts += stats.attempts
        figures.network_errors += stats.network_errors
        figures.server_errors += stats.server_errors
        figures.replayed_answers += stats.replayed
        if len(result["reports"]) != sessions:
            problems.append(f"{credential.cart_id} shopped {len(result['reports'])} of {sessions} sessions")
        journal = Journal(result["journal"])
        if journal.outbox_pending():
            problems.append(f"{credential.cart_id}: {journal.outbox_pending()} outbox rows never acknowledged")
        answers = {
            session_id: json_response
            for session_id, json_response in journal.db.execute("SELECT session_id, response FROM outbox")
        }
        journal.close()
        for session_id, report in result["reports"].items():
            row = stored.get((credential.cart_id, session_id))
            if row is None:
                problems.append(f"{credential.cart_id}/{session_id} missing from the store")
                continue
            if row.total_cents != report["total_cents"]:
                problems.append(f"{session_id}: store total {row.total_cents} != cart {report['total_cents']}")
            answer = answers.get(session_id)
            if answer is not None and row.receipt_id not in answer:
                problems.append(f"{session_id}: the cart's acknowledged answer is not the stored receipt")
    expected = len(credentials) * sessions
    if len(stored) != expected:
        problems.append(f"the store holds {len(stored)} sessions, expected {expected}")
