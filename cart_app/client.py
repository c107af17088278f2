"""Client for the cartd local API (firmware/daemon/API.md): JSON lines over a Unix or TCP socket.

A background thread connects, identifies itself (`hello`), subscribes, and reads one JSON object a
line. Everything it learns is handed to a `deliver` callable as a `Message`; the Kivy app wraps that
callable so the messages reach the UI thread through the Kivy Clock. When cartd goes away the thread
reports it, waits a little and connects again, for as long as the client runs.

This module imports no Kivy, so the benchmark and the tests can use it directly.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

API_VERSION = 1
MAX_LINE_BYTES = 64 * 1024
DEFAULT_SOCKET = "/var/lib/smartcart/cartd.sock"

log = logging.getLogger(__name__)

ReplyCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Address:
    """Where cartd listens: a Unix socket path, or a TCP host and port."""

    path: str | None = None
    host: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        return self.path if self.path is not None else f"{self.host}:{self.port}"


def parse_connect(text: str) -> Address:
    """`HOST:PORT` (IPv6 as `[::1]:8765`) -> Address; a clear ValueError otherwise."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return Address(host=host, port=int(port_text))


@dataclass(frozen=True, slots=True)
class Message:
    """What the reader thread hands over.

    kind is one of:
      - "status": `connected` says whether the link is up (after `hello` and `subscribe`), `detail` why not
      - "hello": `body` is the hello result (api, cart_id, currency, daemon_version)
      - "event": `body` is a pushed event ({"event": "snapshot" | "effect", ...})
      - "reply": `body` is the answer to a request, `callback` the function the request named
    """

    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    connected: bool = False
    detail: str = ""
    callback: ReplyCallback | None = None


class CartClient:
    """One connection to cartd, kept up by a daemon thread; `request` may be called from any thread."""

    def __init__(
        self,
        address: Address,
        deliver: Callable[[Message], None],
        *,
        client_name: str = "cart-app",
        connect_timeout_s: float = 2.0,
        retry_min_s: float = 0.2,
        retry_max_s: float = 2.0,
    ) -> None:
        self.address = address
        self._deliver = deliver
        self._client_name = client_name
        self._connect_timeout_s = connect_timeout_s
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._ready = False  # hello and subscribe answered
        self._waiting: dict[int, ReplyCallback | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- public ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cartd-client", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        with self._lock:
            sock = self._sock
        if sock is not None:
            _shutdown(sock)
        if self._thread is not None:
            self._thread.join(timeout_s)

    @property
    def connected(self) -> bool:
        with self._lock:
            return self._ready

    def request(self, op: str, on_reply: ReplyCallback | None = None, **args: Any) -> int | None:
        """Send one request; the answer comes back as a "reply" Message. None when not connected."""
        with self._lock:
            if not self._ready or self._sock is None:
                return None
            return self._send_locked(op, on_reply, args)

    # -- the thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        delay_s = self._retry_min_s
        while not self._stop.is_set():
            try:
                sock = self._connect()
            except OSError as exc:
                self._status(False, f"cartd at {self.address}: {exc.strerror or exc}")
                self._stop.wait(delay_s)
                delay_s = min(delay_s * 2, self._retry_max_s)
                continue
            delay_s = self._retry_min_s
            why = self._serve(sock)
            self._drop(sock)
            if not self._stop.is_set():
                self._status(False, f"cartd at {self.address}: {why}")
                self._stop.wait(self._retry_min_s)

    def _connect(self) -> socket.socket:
        if self.address.path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = self.address.path
        else:
            sock = socket.socket(socket.AF_INET6 if ":" in (self.address.host or "") else socket.AF_INET)
            target = (self.address.host, self.address.port)
        try:
            sock.settimeout(self._connect_timeout_s)
            sock.connect(target)
            sock.settimeout(None)
        except OSError:
            sock.close()
            raise
        with self._lock:
            self._sock = sock
            self._ready = False
            self._send_locked("hello", self._on_hello, {"client": self._client_name, "api": API_VERSION})
        return sock

    def _serve(self, sock: socket.socket) -> str:
        """Read lines until the connection ends; returns why it ended."""
        reader = sock.makefile("rb")
        try:
            while not self._stop.is_set():
                line = reader.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return "cartd closed the connection"
                if len(line) > MAX_LINE_BYTES:
                    return "line longer than 64 KiB from cartd"
                try:
                    message = json.loads(line)
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    return f"bad JSON from cartd: {exc}"
                if not isinstance(message, dict):
                    return "cartd sent something other than a JSON object"
                failure = self._dispatch(message)
                if failure:
                    return failure
        except OSError as exc:
            return f"connection lost: {exc.strerror or exc}"
        finally:
            reader.close()
        return "stopped"

    def _dispatch(self, message: dict[str, Any]) -> str | None:
        if "event" in message:
            self._deliver(Message("event", message))
            return None
        request_id = message.get("id")
        with self._lock:
            if not isinstance(request_id, int) or request_id not in self._waiting:
                log.warning("answer to no request of ours: %.200s", message)
                return None
            callback = self._waiting.pop(request_id)
        if callback == self._on_hello:
            return self._on_hello(message)
        if callback == self._on_subscribed:
            return self._on_subscribed(message)
        self._deliver(Message("reply", message, callback=callback))
        return None

    def _on_hello(self, message: dict[str, Any]) -> str | None:
        if not message.get("ok"):
            return f"cartd refused hello: {message.get('error', 'no reason given')}"
        result = message.get("result") or {}
        if result.get("api") != API_VERSION:
            return f"cartd speaks API {result.get('api')!r}, this app speaks {API_VERSION}"
        self._deliver(Message("hello", result))
        with self._lock:
            self._send_locked("subscribe", self._on_subscribed, {})
        return None

    def _on_subscribed(self, message: dict[str, Any]) -> str | None:
        if not message.get("ok"):
            return f"cartd refused subscribe: {message.get('error', 'no reason given')}"
        with self._lock:
            self._ready = True
        self._status(True, f"connected to {self.address}")
        return None

    # -- helpers --------------------------------------------------------------------------------

    def _send_locked(self, op: str, on_reply: ReplyCallback | None, args: dict[str, Any]) -> int | None:
        assert self._sock is not None
        request_id = next(self._ids)
        line = json.dumps({"id": request_id, "op": op, **args}, separators=(",", ":")) + "\n"
        self._waiting[request_id] = on_reply
        try:
            self._sock.sendall(line.encode())
        except OSError as exc:
            self._waiting.pop(request_id, None)
            log.warning("could not send %s: %s", op, exc)
            _shutdown(self._sock)  # the reader notices and reconnects
            return None
        return request_id

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = None
            self._ready = False
            orphans = [cb for cb in self._waiting.values() if cb not in (None, self._on_hello, self._on_subscribed)]
            self._waiting.clear()
        sock.close()
        for callback in orphans:
            failure = {"ok": False, "error": "connection to cartd lost", "code": "disconnected"}
            self._deliver(Message("reply", failure, callback=callback))

    def _status(self, connected: bool, detail: str) -> None:
        self._deliver(Message("status", connected=connected, detail=detail))


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
