"""`cartctl watch --socket PATH`: the running cart's basket, live, in a terminal (an API client)."""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import time
from pathlib import Path

from firmware.core.money import bill_row


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("watch", help="show a running cartd's basket live in the terminal")
    parser.add_argument("--socket", type=Path, required=True, help="cartd's API socket (<state dir>/cartd.sock)")
    parser.add_argument("--seconds", type=float, default=0.0, help="stop after this long (0: until Ctrl-C)")
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    parser.set_defaults(func=run)


def _connect(path: Path, timeout_s: float) -> socket.socket:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(path))
            return sock
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def render(snapshot: dict) -> str:
    currency = snapshot.get("currency", "EUR")
    out = [f"cart {snapshot['cart_id']}  {snapshot['state']}  session {snapshot.get('session_id') or '-'}"]
    for line in snapshot["lines"]:
        out.append(bill_row(line["name"], line["amount_cents"], currency, line["qty"], line.get("weight_g")))
    for unit in snapshot["pending"]:
        out.append(f"  (scanned, not in yet) {unit['name'][:40]}")
    for alert in snapshot["alerts"]:
        out.append(f"  ! {alert['kind']}: {alert['detail']} -- {alert['hint']}")
    out.append(bill_row("total", snapshot["total_cents"], currency))
    devices = snapshot["devices"]
    scale = devices["scale"]
    status = (
        f"  scale {'ok' if scale['ok'] else 'FAULT'} {scale.get('level_g', 0):.0f} g"
        f"  camera {'ok' if devices['camera']['ok'] else 'FAULT'}"
    )
    storage = devices.get("storage") or {}
    if not storage.get("ok", True):  # named only when the journal cannot be written
        status += f"  storage FAULT: {storage.get('detail', '')}"
    out.append(status)
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        sock = _connect(args.socket, args.connect_timeout)
    except OSError as exc:
        print(f"cartctl watch: cannot reach cartd at {args.socket}: {exc}", file=sys.stderr)
        return 2
    sock.sendall(b'{"id": 1, "op": "hello", "client": "cartctl-watch", "api": 1}\n{"id": 2, "op": "subscribe"}\n')
    deadline = time.monotonic() + args.seconds if args.seconds else None
    shown = ""
    buffer = b""
    while deadline is None or time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], 0.5)
        if not ready:
            continue
        chunk = sock.recv(65536)
        if not chunk:
            print("cartd closed the connection", file=sys.stderr)
            return 1
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            message = json.loads(line)
            if message.get("event") != "snapshot":
                continue
            text = render(message["snapshot"])
            if text != shown:
                print(text + "\n", flush=True)
                shown = text
    return 0
