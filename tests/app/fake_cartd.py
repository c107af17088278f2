"""A small stand-in for cartd that speaks firmware/daemon/API.md over a Unix socket (or TCP).

It keeps a toy basket (lines, pending scans, alerts) so the app's screens can be driven end to end:
intents change it the way cartd would in the simple cases, and tests script the rest (an item
settling in the basket, an alert being raised) with `place`, `raise_alert`, `update`. Every change
pushes a snapshot to subscribers at once (no coalescing here: tests make bursts on purpose).
Every request is recorded in `requests` so a test can assert on what the app sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Product:
    name: str
    price_cents: int
    sold_by: str = "each"  # or "weight" (price per kg)
    image: str | None = None


DEFAULT_CATALOG = {
    "5012345678900": Product("Canned tomatoes", 129),
    "96385074": Product("Chewing gum", 99),
    "4006381333931": Product("Felt pens, 10 colours", 349),
    "4011": Product("Bananas", 199, "weight"),
    "4131": Product("Apples, Fuji", 299, "weight"),
    "4225": Product("Avocado, large", 149),
    "3082": Product("Broccoli", 249, "weight"),
}


class RequestError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        fake = self.server.fake
        conn = _Conn(self.connection)
        fake._register(conn)
        try:
            while True:
                line = self.rfile.readline(MAX_LINE_BYTES + 1)
                if not line or len(line) > MAX_LINE_BYTES:
                    return
                fake._handle_line(conn, line)
        except OSError:
            return
        finally:
            fake._unregister(conn)


class _Server(socketserver.ThreadingMixIn, socketserver.BaseServer):
    daemon_threads = True
    fake: FakeCartd


class _UnixServer(_Server, socketserver.UnixStreamServer):
    pass


class _TcpServer(_Server, socketserver.TCPServer):
    allow_reuse_address = True


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.subscribed = False

    def send(self, message: dict[str, Any]) -> None:
        data = (json.dumps(message) + "\n").encode()
        with self.lock, contextlib.suppress(OSError):
            self.sock.sendall(data)


class FakeCartd:
    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        tcp_port: int | None = None,
        cart_id: str = "cart-007",
        currency: str = "EUR",
        catalog: dict[str, Product] | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.tcp_port = tcp_port
        self.cart_id = cart_id
        self.currency = currency
        self.catalog = dict(DEFAULT_CATALOG if catalog is None else catalog)
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._conns: list[_Conn] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._uid = 0
        self._sessions = 0
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeCartd:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            server: _Server = _UnixServer(self.path, _Handler)
        else:
            server = _TcpServer(("127.0.0.1", self.tcp_port or 0), _Handler)
            self.tcp_port = server.server_address[1]
        server.fake = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener and every connection, as a cartd that exits would."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns, self._conns = list(self._conns), []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self._server = None

    def __enter__(self) -> FakeCartd:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.seq = 0
            self.state = "idle"
            self.session_id: str | None = None
            self.lines: list[dict[str, Any]] = []
            self.pending: list[dict[str, Any]] = []
            self.alerts: list[dict[str, Any]] = []
            self.review: dict[str, Any] = {"required": False, "reasons": []}
            self.devices: dict[str, Any] = {
                "scale": {"ok": True, "level_g": 0.0, "still": True, "detail": ""},
                "camera": {"ok": True, "detail": ""},
                "store": {"ok": True, "pending": 0, "detail": ""},
                "storage": {"ok": True, "detail": ""},
            }
            self.receipt: dict[str, Any] | None = None

    # -- what tests script ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seq": self.seq,
                "state": self.state,
                "cart_id": self.cart_id,
                "session_id": self.session_id,
                "currency": self.currency,
                "lines": [dict(line) for line in self.lines],
                "pending": [dict(scan) for scan in self.pending],
                "total_cents": sum(line["amount_cents"] for line in self.lines),
                "alerts": [dict(alert) for alert in self.alerts],
                "review": dict(self.review),
                "devices": json.loads(json.dumps(self.devices)),
                "receipt": None if self.receipt is None else dict(self.receipt),
            }

    def push(self) -> dict[str, Any]:
        """A new snapshot to every subscriber now; returns it."""
        with self._lock:
            self.seq += 1
            snap = self.snapshot()
            targets = [conn for conn in self._conns if conn.subscribed]
        for conn in targets:
            conn.send({"event": "snapshot", "snapshot": snap})
        return snap

    def effect(self, kind: str, **data: Any) -> None:
        with self._lock:
            targets = [conn for conn in self._conns if conn.subscribed]
        for conn in targets:
            conn.send({"event": "effect", "effect": {"t": time.monotonic(), "kind": kind, "data": data}})

    def update(self, **fields: Any) -> dict[str, Any]:
        with self._lock:
            for name, value in fields.items():
                if not hasattr(self, name):
                    raise AttributeError(f"the fake has no field {name!r}")
                setattr(self, name, value)
        return self.push()

    def place(self, code: str, weight_g: float | None = None, *, push: bool = True) -> None:
        """The item scanned as `code` settles in the basket: off the pending list, onto the bill."""
        with self._lock:
            product = self.catalog[code]
            scan = next((scan for scan in self.pending if scan["code"] == code), None)
            if scan is not None:
                self.pending.remove(scan)
            if product.sold_by == "weight":
                grams = weight_g if weight_g is not None else 500.0
                amount = round(product.price_cents * grams / 1000)
                self.lines.append(
                    {
                        "code": code,
                        "name": product.name,
                        "qty": 1,
                        "weight_g": grams,
                        "amount_cents": amount,
                        "unit_price_cents": product.price_cents,
                    }
                )
            else:
                line = next((line for line in self.lines if line["code"] == code and not line["weight_g"]), None)
                if line is None:
                    line = {
                        "code": code,
                        "name": product.name,
                        "qty": 0,
                        "weight_g": None,
                        "amount_cents": 0,
                        "unit_price_cents": product.price_cents,
                    }
                    self.lines.append(line)
                line["qty"] += 1
                line["amount_cents"] = line["qty"] * product.price_cents
        self.effect("cart.item_added", code=code)
        if push:
            self.push()

    def raise_alert(self, kind: str, detail: str, hint: str = "", **extra: Any) -> int:
        with self._lock:
            self._uid += 1
            aid = self._uid
            self.alerts.append(
                {
                    "aid": aid,
                    "kind": kind,
                    "t": round(time.monotonic() % 1000, 1),
                    "detail": detail,
                    "resolved": False,
                    "hint": hint,
                    **extra,
                }
            )
        self.effect("alert.raised", aid=aid, alert=kind, detail=detail)
        self.push()
        return aid

    def wait_request(self, op: str, timeout_s: float = 5.0, *, after: int = 0) -> dict[str, Any]:
        """The first request with this op (from index `after` on); AssertionError when none comes."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                for request in self.requests[after:]:
                    if request.get("op") == op:
                        return request
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    ops = [r.get("op") for r in self.requests]
                    raise AssertionError(f"no {op!r} request within {timeout_s} s; got {ops}")
                self._changed.wait(left_s)

    def subscribers(self) -> int:
        with self._lock:
            return sum(conn.subscribed for conn in self._conns)

    # -- the protocol ---------------------------------------------------------------------------

    def _register(self, conn: _Conn) -> None:
        with self._lock:
            self._conns.append(conn)

    def _unregister(self, conn: _Conn) -> None:
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)

    def _handle_line(self, conn: _Conn, line: bytes) -> None:
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("op"), str):
                raise ValueError("a request is an object with a string 'op'")
        except ValueError as exc:
            conn.send({"id": None, "ok": False, "error": f"bad request: {exc}", "code": "bad_request"})
            return
        with self._changed:
            self.requests.append(request)
            self._changed.notify_all()
        try:
            result, changed = self._answer(conn, request)
        except RequestError as exc:
            conn.send({"id": request.get("id"), "ok": False, "error": str(exc), "code": exc.code})
            return
        conn.send({"id": request.get("id"), "ok": True, "result": result})
        if request["op"] == "subscribe":
            conn.send({"event": "snapshot", "snapshot": self.snapshot()})
        elif changed:
            self.push()

    def _answer(self, conn: _Conn, request: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        op = request["op"]
        with self._lock:
            if op == "hello":
                if request.get("api") != 1:
                    raise RequestError("bad_request", f"API version {request.get('api')!r} not supported; this is 1")
                return {"api": 1, "cart_id": self.cart_id, "currency": self.currency, "daemon_version": "fake"}, False
            if op == "snapshot":
                return self.snapshot(), False
            if op == "subscribe":
                conn.subscribed = True
                return {}, False
            if op == "search":
                return {"results": self._search(str(request.get("query") or ""), int(request.get("limit", 20)))}, False
            if op == "start":
                if self.state not in ("idle", "ended"):
                    raise RequestError("wrong_state", f"a session is already {self.state}")
                self.reset()
                self._sessions += 1
                self.state, self.session_id = "shopping", f"{self.cart_id}-fake-{self._sessions:04d}"
                return {"session_id": self.session_id}, True
            if op not in ("code", "plu", "remove", "checkout", "end"):
                raise RequestError("unknown_op", f"unknown op {op!r}")
            if self.state not in ("shopping", "checkout"):
                raise RequestError("wrong_state", "no session; start one first")
            if op in ("code", "plu"):
                return self._scan(str(request.get("text") if op == "code" else request.get("plu") or ""), op), True
            if op == "remove":
                return self._remove(str(request.get("code") or "")), True
            if op == "checkout":
                self.state = "checkout"
                return {}, True
            if self.state != "checkout":
                raise RequestError("wrong_state", "checkout first")
            return self._end(), True

    def _scan(self, code: str, op: str) -> dict[str, Any]:
        product = self.catalog.get(code)
        if product is None:
            if op == "plu":
                raise RequestError("bad_request", f"unknown PLU {code}")
            self._uid += 1
            self.alerts.append(
                {
                    "aid": self._uid,
                    "kind": "unknown_code",
                    "t": 0.0,
                    "detail": f"{code}: not in the catalog",
                    "resolved": False,
                    "hint": "Wait for staff.",
                }
            )
            return {}
        self._uid += 1
        self.pending.append(
            {
                "uid": self._uid,
                "code": code,
                "name": product.name,
                "price_cents": product.price_cents,
                "by_weight": product.sold_by == "weight",
            }
        )
        return {}

    def _remove(self, code: str) -> dict[str, Any]:
        asked = [a for a in self.alerts if a["kind"] == "removal_unidentified"]
        scans = [scan for scan in self.pending if scan["code"] == code]
        if scans and not asked:
            self.pending.remove(scans[-1])
            name = scans[-1]["name"]
            self.alerts = [a for a in self.alerts if not (a["kind"] == "scan_not_placed" and name in a["detail"])]
            return {}
        line = next((line for line in self.lines if line["code"] == code), None)
        if line is not None:
            line["qty"] -= 1
            line["amount_cents"] = line["qty"] * line["unit_price_cents"] if not line["weight_g"] else 0
            if line["qty"] <= 0:
                self.lines.remove(line)
            if asked:
                self.alerts.remove(asked[0])
        return {}

    def _end(self) -> dict[str, Any]:
        self.state = "ended"
        items = [{k: v for k, v in line.items() if k != "unit_price_cents"} for line in self.lines]
        total = sum(line["amount_cents"] for line in self.lines)
        self.receipt = {
            "session_id": self.session_id,
            "items": items,
            "total_cents": total,
            "review": dict(self.review),
            "synced": self.devices["store"].get("pending", 0) == 0 and self.devices["store"]["ok"],
        }
        return {"report": {"session_id": self.session_id, "items": items, "total_cents": total}}

    def _search(self, query: str, limit: int) -> list[dict[str, Any]]:
        words = query.lower().split()
        found = []
        for code, product in sorted(self.catalog.items(), key=lambda item: (len(item[0]) > 5, item[1].name)):
            if all(word in product.name.lower() for word in words):
                found.append(
                    {
                        "code": code,
                        "name": product.name,
                        "price_cents": product.price_cents,
                        "sold_by": product.sold_by,
                        "image": product.image,
                    }
                )
        return found[:limit]


def serve_forever(path: Path) -> None:  # pragma: no cover - for trying the app by hand
    """`python -m tests.app.fake_cartd PATH`: a fake cart with two items in it."""
    fake = FakeCartd(path).start()
    fake.update(state="shopping", session_id="cart-007-demo")
    fake.pending.append({"uid": 99, "code": "96385074", "name": "Chewing gum", "price_cents": 99, "by_weight": False})
    fake.place("5012345678900")
    print(f"fake cartd on {path}; Ctrl-C to stop")
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(1)
    fake.stop()


if __name__ == "__main__":  # pragma: no cover
    import sys

    serve_forever(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/fake-cartd.sock"))
