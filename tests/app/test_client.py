"""The API client against the fake cartd, without Kivy: hello, subscribe, requests, reconnects, bad input."""

from __future__ import annotations

import queue
import socket
import threading
import time
from pathlib import Path

import pytest

from cart_app.client import Address, CartClient, Message, parse_connect
from tests.app.fake_cartd import FakeCartd


class Inbox:
    def __init__(self) -> None:
        self.messages: queue.SimpleQueue[Message] = queue.SimpleQueue()

    def __call__(self, message: Message) -> None:
        self.messages.put(message)

    def next(self, kind: str, timeout_s: float = 5.0, **match: object) -> Message:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {kind} message {match} within {timeout_s} s") from None
            if message.kind == kind and all(getattr(message, k) == v for k, v in match.items()):
                return message


def test_parse_connect() -> None:
    assert parse_connect("10.0.0.5:8765") == Address(host="10.0.0.5", port=8765)
    assert parse_connect("[::1]:8765") == Address(host="::1", port=8765)
    for bad in ("8765", "host:", "host:99999", ":80", "host:port"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_connect(bad)


def test_hello_subscribe_snapshot_and_a_request(fake: FakeCartd) -> None:
    inbox = Inbox()
    client = CartClient(Address(path=fake.path), inbox)
    client.start()
    try:
        assert inbox.next("hello").body["cart_id"] == "cart-007"
        inbox.next("status", connected=True)
        assert inbox.next("event").body["snapshot"]["state"] == "idle"
        replies: list[dict] = []
        assert client.request("start", replies.append) is not None
        reply = inbox.next("reply")
        assert reply.body["ok"] and reply.body["result"]["session_id"].startswith("cart-007")
        assert inbox.next("event").body["snapshot"]["state"] == "shopping"
        assert client.request("end") is not None  # not before checkout
        refused = inbox.next("reply").body
        assert refused["ok"] is False and refused["code"] == "wrong_state"
        assert [r["op"] for r in fake.requests] == ["hello", "subscribe", "start", "end"]
    finally:
        client.stop()


def test_reconnects_after_restart_and_reports_while_away(fake: FakeCartd) -> None:
    inbox = Inbox()
    client = CartClient(Address(path=fake.path), inbox, retry_min_s=0.05, retry_max_s=0.1)
    client.start()
    try:
        inbox.next("status", connected=True)
        fake.stop()
        down = inbox.next("status", connected=False)
        assert "cartd at" in down.detail
        assert client.request("snapshot") is None  # offline: refused at once, not queued
        fake.start()
        inbox.next("status", connected=True)
        assert client.connected
    finally:
        client.stop()


def test_tcp_connect() -> None:
    with FakeCartd(tcp_port=0) as fake:
        inbox = Inbox()
        client = CartClient(Address(host="127.0.0.1", port=fake.tcp_port), inbox)
        client.start()
        try:
            inbox.next("status", connected=True)
        finally:
            client.stop()


def serve_once(path: Path, lines: list[bytes]) -> threading.Thread:
    """A broken daemon: answers whatever `lines` say to the first connection, then hangs up."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def run() -> None:
        conn, _ = listener.accept()
        conn.recv(4096)
        for line in lines:
            conn.sendall(line)
        time.sleep(0.2)
        conn.close()
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (b'{"id": 1, "ok": true, "result": {"api": 2}}\n', "cartd speaks API 2"),
        (b'{"id": 1, "ok": false, "error": "go away", "code": "bad_request"}\n', "refused hello: go away"),
        (b"this is not json\n", "bad JSON"),
        (b"[1, 2]\n", "other than a JSON object"),
        (b"x" * (70 * 1024) + b"\n", "longer than 64 KiB"),
    ],
)
def test_a_misbehaving_daemon_is_named_and_dropped(socket_path: Path, answer: bytes, why: str) -> None:
    thread = serve_once(socket_path, [answer])
    inbox = Inbox()
    client = CartClient(Address(path=str(socket_path)), inbox, retry_min_s=5.0)
    client.start()
    try:
        down = inbox.next("status", connected=False)
        assert why in down.detail
        assert not client.connected
    finally:
        client.stop()
        thread.join(2)
