"""The running cart's figures: scan-to-snapshot latency through cartd's API, cartd's memory, start-up.

    .venv/bin/python -m tools.bench_cart [--samples 40]

Starts `cartd --emulate` (MCU emulator on a pty, synthetic camera, the demo session), subscribes
like the screen does, and times each typed code from the request to the pushed snapshot that shows
it; then reads cartd's RSS. The app's own snapshot-to-frame time is `tools/bench_app.py`.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODES = ["4001000000010", "4007000000074", "4002000000024"]  # from the demo catalog


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args(argv)
    state = Path(tempfile.mkdtemp(prefix="bench-cart-"))
    started = time.perf_counter()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "firmware.daemon.main", "--emulate", "--state-dir", str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sock_path = state / "cartd.sock"
        while not sock_path.exists():
            if daemon.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit("cartd did not start")
            time.sleep(0.01)
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(str(sock_path))
        ready_s = time.perf_counter() - started
        stream = sock.makefile("rwb")

        def send(message: dict) -> None:
            stream.write(json.dumps(message).encode() + b"\n")
            stream.flush()

        def until(predicate) -> dict:  # type: ignore[no-untyped-def]
            while True:
                message = json.loads(stream.readline())
                if predicate(message):
                    return message

        send({"id": 0, "op": "subscribe"})
        until(lambda m: m.get("event") == "snapshot" and m["snapshot"]["state"] == "shopping")
        latencies = []
        for i in range(args.samples):
            code = CODES[i % len(CODES)]
            time.sleep(0.3)  # scans come seconds apart; the push rate cap is not what is measured
            before = time.perf_counter()
            send({"id": i + 1, "op": "code", "text": code})
            until(lambda m, n=i: m.get("event") == "snapshot" and len(m["snapshot"]["pending"]) >= n + 1)
            latencies.append((time.perf_counter() - before) * 1000)
        cartd_rss = rss_mib(daemon.pid)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"cartd --emulate: API up {ready_s:.2f} s after start; RSS {cartd_rss:.0f} MiB")
    print(
        f"code typed -> snapshot showing it: p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms "
        f"({len(latencies)} samples; snapshots are pushed at most 10 a second)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
