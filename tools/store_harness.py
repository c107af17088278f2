"""Test and bench harness for the store: a real `cart-store` process, a throwaway PostgreSQL
cluster, and emulated carts that shop through the real cart pipeline.

Used by tests/store, tests/sync and tools/bench_store.py. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from firmware.core.catalog import parse_catalog
from firmware.core.events import CheckoutRequested, CodeRead, Event, ScaleSampled, SessionEnded
from firmware.journal import Journal
from firmware.pipeline import CartPipeline
from firmware.sync.outbox import outbox_maker

REPO = Path(__file__).resolve().parent.parent
STORE_SRC = REPO / "store"

CATALOG_CSV = """code,name,price_cents,sold_by,weight_g,weight_sd_g
5012345678900,Canned tomatoes 400 g,129,each,452,
96385074,Chewing gum,99,each,21.5,
4006381333931,Pasta 500 g,189,each,510,
8712100849084,Coffee beans 1 kg,1299,each,1020,
4011,Bananas,199,weight,,
"""
EACH = [("5012345678900", 452.0), ("96385074", 21.5), ("4006381333931", 510.0), ("8712100849084", 1020.0)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def store_env() -> dict[str, str]:
    paths = [str(STORE_SRC), str(REPO), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def run_store_cli(db_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `cart-store --db URL ARGS...` as a subprocess, whatever its outcome."""
    return subprocess.run(
        [sys.executable, "-m", "cart_store", "--db", db_url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=store_env(),
        timeout=60,
        check=False,
    )


def store_admin(db_url: str, *args: str, stdin: str | None = None) -> str:
    """Run a `cart-store` admin command; its stdout."""
    done = run_store_cli(db_url, *args, stdin=stdin)
    if done.returncode != 0:
        raise RuntimeError(f"cart-store {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


class StoreProcess:
    """`cart-store --db URL --host 127.0.0.1 --port P` as a child process, killable with -9."""

    def __init__(self, db_url: str, port: int | None = None, log_path: Path | None = None) -> None:
        self.db_url = db_url
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        cmd = [sys.executable, "-m", "cart_store", "--db", self.db_url, "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*cmd, "--port", str(self.port)], env=store_env(), stdout=log, stderr=log, cwd=REPO
        )
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cart-store exited with {self.proc.returncode} (log: {self.log_path})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"cart-store did not answer within {timeout_s} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class PgCluster:
    """A throwaway PostgreSQL cluster in a temp dir on a free loopback port (Debian's binaries)."""

    def __init__(self, fsync: bool = False) -> None:
        self.bin = self.find_bin()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/initdb)")
        self.fsync = fsync
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="cartstore-pg-"))
        self.as_root = os.geteuid() == 0

    @staticmethod
    def find_bin() -> Path | None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        return Path(found[-1]).parent if found else None

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_root else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        data = self.dir / "data"
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


# -- emulated carts -------------------------------------------------------------------------------


def session_events(rng: random.Random, sps: float = 10.0) -> list[Event]:
    """A noiseless shop: scanned items placed one by one, sometimes one placed without a scan."""
    events: list[Event] = []
    t, level = 0.0, 0.0

    def hold(seconds: float) -> None:
        nonlocal t
        n = int(seconds * sps)
        events.append(ScaleSampled(round(t, 3), sps, tuple([level] * n)))
        t += n / sps

    hold(2.0)
    for _ in range(rng.randint(1, 4)):
        code, grams = rng.choice(EACH)
        events.append(CodeRead(round(t, 3), code, None))
        hold(1.0)
        level += grams
        hold(3.0)
    if rng.random() < 0.3:  # an unscanned item: the session goes to a person
        level += rng.choice(EACH)[1]
        hold(12.0)
    events.append(CheckoutRequested(round(t, 3)))
    hold(1.0)
    events.append(SessionEnded(round(t, 3)))
    return events


def shop(journal: Journal, cart_id: str, session_id: str, rng: random.Random) -> dict[str, Any]:
    """One whole session through the real pipeline; closing it queues the store message."""
    pipeline = CartPipeline(parse_catalog(CATALOG_CSV), session_id, journal=journal, cart_id=cart_id)
    pipeline.feed_all(session_events(rng))
    return pipeline.close(outbox=outbox_maker(journal, cart_id, session_id))
