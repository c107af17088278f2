"""The `emulated` target: `cartd --emulate --trace <compiled> --loops 1` in a subprocess with its own
state directory — the real MCU firmware on a pty, the synthetic camera read by the real camera
path, the recorded shopper sending intents — watched from outside through the local API only.

The rig subscribes before the session starts, keeps every `alert.raised` / `alert.resolved` effect
(the alerts the screen showed, and whether they were resolved), and takes the bill and review from
the receipt of the ended session. That is the report the expectations are checked against.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.hil.compiler import Compiled

CONNECT_TIMEOUT_S = 30.0
SLACK_S = 45.0  # beyond the session's own length: start-up, the scale's first samples, the end


class EmulatedCartError(RuntimeError):
    pass


class ConnectionEnded(EmulatedCartError):
    pass


def cartd_command() -> list[str]:
    script = Path(sys.executable).parent / "cartd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from firmware.daemon.main import main; sys.exit(main())"]


class ApiWatcher:
    """A subscriber on cartd's socket: collects effects and the latest snapshot."""

    def __init__(self, path: Path, deadline: float, proc: subprocess.Popen[bytes]) -> None:
        self.sock = _connect(path, deadline, proc)
        self.buffer = b""
        self.next_id = 1
        self.alerts: dict[int, dict[str, Any]] = {}
        self.snapshot: dict[str, Any] = {}
        self.saw_session = False
        self.joined_late = False
        self.effects = 0

    def send(self, op: str, **args: Any) -> None:
        message = {"id": self.next_id, "op": op, **args}
        self.next_id += 1
        self.sock.sendall(json.dumps(message).encode() + b"\n")

    def read(self, timeout_s: float) -> list[dict[str, Any]]:
        ready, _, _ = select.select([self.sock], [], [], timeout_s)
        if not ready:
            return []
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionEnded("cartd closed the API connection")
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def handle(self, message: dict[str, Any]) -> None:
        if message.get("ok") is False:
            raise EmulatedCartError(f"cartd refused a request: {message.get('error')}")
        event = message.get("event")
        if event == "snapshot":
            snap = message["snapshot"]
            if not self.snapshot and snap.get("state") not in ("idle", None):
                self.joined_late = True
            self.snapshot = snap
            if snap.get("state") in ("shopping", "checkout"):
                self.saw_session = True
        elif event == "effect":
            self.effects += 1
            effect = message["effect"]
            data = effect.get("data", {})
            if effect["kind"] == "alert.raised":
                self.alerts[data["aid"]] = {"t": effect["t"], "kind": data["alert"], "resolved": False}
            elif effect["kind"] == "alert.resolved" and data.get("aid") in self.alerts:
                self.alerts[data["aid"]]["resolved"] = True
            elif effect["kind"] in ("session.started", "cart.item_added", "scan.pending"):
                self.saw_session = True

    @property
    def ended(self) -> bool:
        return self.saw_session and self.snapshot.get("state") == "ended" and bool(self.snapshot.get("receipt"))

    def report(self) -> dict[str, Any]:
        receipt = self.snapshot["receipt"]
        return {
            "version": 1,
            "session_id": receipt["session_id"],
            "items": receipt["items"],
            "total_cents": receipt["total_cents"],
            "alerts": sorted(self.alerts.values(), key=lambda a: a["t"]),
            "review": receipt["review"],
            "stats": {"target": "emulated", "effects": self.effects, "joined_late": self.joined_late},
        }

    def close(self) -> None:
        self.sock.close()


def _connect(path: Path, deadline: float, proc: subprocess.Popen[bytes]) -> socket.socket:
    last_error = "no socket yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatedCartError(f"cartd exited with {proc.returncode} before its API came up")
        if path.exists():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                return sock
            except OSError as exc:
                sock.close()
                last_error = str(exc)
        time.sleep(0.05)
    raise EmulatedCartError(f"cartd's API at {path} did not come up ({last_error})")


def run_emulated(compiled: Compiled, work_dir: Path, result: Any) -> dict[str, Any]:
    """Play the compiled trace on a whole emulated cart; the report as the API showed it."""
    from tools.hil.targets import trace_samples

    work_dir.mkdir(parents=True, exist_ok=True)
    state_dir = Path(tempfile.mkdtemp(prefix="hil-cartd-"))  # short: a Unix socket path has ~100 bytes
    log_path = work_dir / "cartd.log"
    command = [
        *cartd_command(),
        "--emulate",
        "--trace",
        str(compiled.trace_dir),
        "--state-dir",
        str(state_dir),
        "--loops",
        "1",
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        report = _play(command, env, log_path, state_dir, compiled.duration_s)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
        if log_path.exists():
            result.log += log_path.read_text(encoding="utf-8", errors="replace")[-20000:]
    result.samples_t, result.samples_g = trace_samples(compiled)
    return report


def _play(
    command: list[str], env: dict[str, str], log_path: Path, state_dir: Path, duration_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        watcher: ApiWatcher | None = None
        try:
            watcher = ApiWatcher(state_dir / "cartd.sock", deadline, proc)
            watcher.send("hello", client="hil-rig", api=1)
            watcher.send("subscribe")
            deadline = time.monotonic() + duration_s + SLACK_S
            closed = False
            while not watcher.ended and not closed:
                if time.monotonic() > deadline:
                    raise EmulatedCartError(
                        f"the session did not end within {duration_s + SLACK_S:.0f} s "
                        f"(state {watcher.snapshot.get('state')!r})"
                    )
                try:
                    for message in watcher.read(0.2):
                        watcher.handle(message)
                except (ConnectionEnded, OSError):
                    if not watcher.saw_session:
                        raise
                    closed = True  # cartd stops right after its one session; the journal holds the end
                if proc.poll() is not None:
                    closed = True
        finally:
            if watcher is not None:
                watcher.close()
            _stop(proc)
    return _final_report(state_dir, watcher)


def _final_report(state_dir: Path, watcher: ApiWatcher | None) -> dict[str, Any]:
    """The ended session's report as cartd journaled it (the same report a replay prints); the
    API's receipt and alert effects when the journal has none."""
    from firmware.journal import Journal

    session_id = (watcher.snapshot.get("session_id") if watcher else None) or None
    journal_path = state_dir / "journal.db"
    if session_id and journal_path.exists():
        journal = Journal(journal_path)
        try:
            report = journal.report(session_id)
        finally:
            journal.close()
        if report is not None:
            assert watcher is not None
            report.setdefault("stats", {}).update(
                {"target": "emulated", "api_alerts": len(watcher.alerts), "joined_late": watcher.joined_late}
            )
            return report
    if watcher is not None and watcher.ended:
        return watcher.report()
    raise EmulatedCartError("the session ended but neither the journal nor the API gave its report")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """cartd stops by itself after its one loop; a stuck one is terminated, then killed."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
