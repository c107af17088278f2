"""Benchmark of the shopper's app (`cart-app`): start-up to first frame, RSS, message-to-screen latency.

    python -m tools.bench_app [--samples 100] [--interval-s 0.1] [--size 800x480] [--visible]

Runs the real app as a child process (`python -m cart_app.main --bench-log`) against the fake cartd of
the tests (tests/app/fake_cartd.py) on a temporary Unix socket. The app prints the monotonic time of
its first frame and of each frame that shows a new total; this script pushes snapshots with distinct
totals and subtracts. Off screen (SDL offscreen + Mesa EGL) unless --visible.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from firmware.core.money import format_cents

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.app.fake_cartd import FakeCartd  # noqa: E402  (the fake lives with the tests)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


class AppProcess:
    """The app as a child process, its stdout lines parsed on a thread."""

    def __init__(self, socket_path: str, size: str, visible: bool) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
        env.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="bench-app-kivy-"))
        if not visible:
            env.setdefault("SDL_VIDEODRIVER", "offscreen")
        command = [sys.executable, "-m", "cart_app.main", "--socket", socket_path, "--size", size, "--bench-log"]
        self.spawned_at = time.monotonic()
        self.proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.first_frame: dict[str, float] = {}
        self.totals: queue.SimpleQueue[tuple[str, float, float]] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            words = dict(part.split("=", 1) for part in line.split()[2:] if "=" in part)
            if line.startswith("frame first"):
                self.first_frame = {k: float(v) for k, v in words.items()}
            elif line.startswith("frame total"):
                self.totals.put((words.get("text", ""), float(words["set"]), float(words["t"])))

    def wait_total(self, text: str, timeout_s: float) -> tuple[float, float]:
        """(when the total label took this text, when the frame showing it was flipped)"""
        deadline = time.monotonic() + timeout_s
        while True:
            left_s = deadline - time.monotonic()
            if left_s <= 0 or self.proc.poll() is not None:
                raise TimeoutError(f"the app never showed the total {text}")
            try:
                shown, set_at, flipped_at = self.totals.get(timeout=left_s)
            except queue.Empty:
                continue
            if shown == text:
                return set_at, flipped_at

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run(samples: int, interval_s: float, size: str, visible: bool) -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-app-"))
    fake = FakeCartd(folder / "cartd.sock").start()
    fake.update(state="shopping", session_id="bench-0001")
    for code in ("5012345678900", "96385074", "4006381333931"):
        fake.place(code, push=False)
    first_total = fake.push()["total_cents"]
    app = AppProcess(str(folder / "cartd.sock"), size, visible)
    try:
        app.wait_total(format_cents(first_total, "EUR"), timeout_s=30)
        startup_s = app.first_frame["t"] - app.spawned_at
        to_label_ms, latencies_ms = [], []
        for i in range(samples):
            cents = 100_000 + i * 7  # a total no other sample shows
            fake.lines = [{"code": "x", "name": "Bench line", "qty": 1, "weight_g": None, "amount_cents": cents,
                           "unit_price_cents": cents}]  # fmt: skip
            sent_at = time.monotonic()
            fake.push()
            set_at, shown_at = app.wait_total(format_cents(cents, "EUR"), timeout_s=5)
            to_label_ms.append((set_at - sent_at) * 1000)
            latencies_ms.append((shown_at - sent_at) * 1000)
            time.sleep(interval_s)
        rss, hwm = rss_kib(app.proc.pid)
    finally:
        app.stop()
        fake.stop()
    print(f"cart-app benchmark ({size}, {'visible' if visible else 'offscreen'} window, fake cartd over a Unix socket)")
    print(f"  start-up to first frame: {startup_s:.2f} s from spawn "
          f"({app.first_frame.get('since_process_start_s', -1):.2f} s by the app's own clock)")  # fmt: skip
    print(f"  RSS: {rss / 1024:.1f} MiB (peak {hwm / 1024:.1f} MiB)")
    print(
        f"  snapshot-to-label (total text set) over {len(to_label_ms)} snapshots: "
        f"p50 {percentile(to_label_ms, 0.5):.1f} ms, p95 {percentile(to_label_ms, 0.95):.1f} ms"
    )
    print(
        f"  snapshot-to-screen latency over {len(latencies_ms)} snapshots: p50 {percentile(latencies_ms, 0.5):.1f} ms, "
        f"p95 {percentile(latencies_ms, 0.95):.1f} ms, max {max(latencies_ms):.1f} ms, "
        f"mean {statistics.fmean(latencies_ms):.1f} ms"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100, help="snapshots to time (100)")
    parser.add_argument(
        "--interval-s", type=float, default=0.1, help="pause between snapshots (0.1 s: cartd's max rate)"
    )
    parser.add_argument("--size", default="800x480", help="window size (800x480)")
    parser.add_argument("--visible", action="store_true", help="open a real window instead of rendering off screen")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.interval_s < 0:
        parser.error("--samples must be >= 1 and --interval-s >= 0")
    return run(args.samples, args.interval_s, args.size, args.visible)


if __name__ == "__main__":
    sys.exit(main())
