"""A tiny loopback TCP proxy that cuts connections at random, for the checkout-sync chaos test.

Each accepted connection is forwarded to the upstream port; with probability `cut_probability`
it is cut in one of three ways: before the request reaches the store, after the store got the
request but before its answer reaches the cart (the case that makes carts resend), or after a
random delay. Seeded, counted, threads only, 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections import Counter

MODES = ("before_request", "drop_answer", "after_delay")


class ChaosProxy:
    def __init__(self, upstream_port: int, *, cut_probability: float = 0.25, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.cut_probability = cut_probability
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.enabled = True
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # accept() wakes up to notice stop()
        self._stopping = False
        self.port = self.listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="chaos-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ChaosProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.enabled = False
        self._stopping = True
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            for sock in list(self._open):
                _close(sock)

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _addr = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self.lock:
                self.counts["connections"] += 1
                cut = self.enabled and self.rng.random() < self.cut_probability
                mode = self.rng.choice(MODES) if cut else "pass"
                delay_s = self.rng.uniform(0.0, 0.2)
                if cut:
                    self.counts[mode] += 1
            threading.Thread(target=self._serve, args=(client, mode, delay_s), daemon=True).start()

    def _serve(self, client: socket.socket, mode: str, delay_s: float) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            _close(client)  # the store is down: the cart sees the connection close
            return
        with self.lock:
            self._open.update((client, upstream))
        if mode == "after_delay":
            timer = threading.Timer(delay_s, lambda: (_close(client), _close(upstream)))
            timer.daemon = True
            timer.start()
        there = threading.Thread(target=self._pump, args=(client, upstream, mode == "before_request"))
        there.daemon = True
        there.start()
        self._pump(upstream, client, mode == "drop_answer")
        there.join(timeout=10)
        with self.lock:
            self._open.difference_update((client, upstream))

    def _pump(self, src: socket.socket, dst: socket.socket, cut_on_first_data: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or cut_on_first_data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        _close(src)
        _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
