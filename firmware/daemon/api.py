"""cartd's local API server (see API.md): newline-delimited JSON over a Unix socket and, if asked, TCP.

Requests are answered in order on each connection; pushed snapshots are coalesced to at most
`snapshot_hz` a second and sent only when the service's state changed. A subscriber that stops
reading is dropped once its bounded queue is full, so a stuck screen never slows the cart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.core.fusion import Effect
from firmware.daemon.service import CartService, IntentError

API_VERSION = 1
MAX_LINE = 64 * 1024
QUEUE_LIMIT = 256
log = logging.getLogger("cartd.api")


@dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    subscribed: bool = False
    last_seq: int = -1


class ApiServer:
    def __init__(self, service: CartService, daemon_version: str, snapshot_hz: float = 10.0) -> None:
        self.service = service
        self.daemon_version = daemon_version
        self.period_s = 1.0 / snapshot_hz
        self.clients: set[_Client] = set()
        self.servers: list[asyncio.base_events.Server] = []
        service.effect_listeners.append(self._push_effect)
        self._pusher: asyncio.Task[None] | None = None
        self._dirty = asyncio.Event()
        service.change_listeners.append(self._dirty.set)

    async def start(self, socket_path: Path, listen: str = "") -> None:
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        self.servers.append(await asyncio.start_unix_server(self._serve, path=str(socket_path), limit=MAX_LINE))
        socket_path.chmod(0o660)
        if listen:
            host, _, port = listen.rpartition(":")
            self.servers.append(await asyncio.start_server(self._serve, host or "127.0.0.1", int(port), limit=MAX_LINE))
        self._pusher = asyncio.create_task(self._push_snapshots())

    async def close(self) -> None:
        if self._pusher:
            self._pusher.cancel()
        for server in self.servers:
            server.close()
        for client in list(self.clients):
            client.writer.close()

    # -- connections -----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self.clients.add(client)
        sender = asyncio.create_task(self._send_loop(client))
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await self._send_now(client, {"ok": False, "error": "line too long", "code": "bad_request"})
                    break
                if not line:
                    break
                self._enqueue(client, self._answer(client, line))
        except ConnectionError:
            pass
        finally:
            self.clients.discard(client)
            client.queue.put_nowait(None) if not client.queue.full() else None
            sender.cancel()
            writer.close()

    def _answer(self, client: _Client, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {"id": None, "ok": False, "error": "not a JSON object", "code": "bad_request"}
        if not isinstance(request, dict) or not isinstance(request.get("op"), str):
            return {
                "id": None,
                "ok": False,
                "error": "a request is an object with a string 'op'",
                "code": "bad_request",
            }
        rid, op = request.get("id"), request["op"]
        args = {k: v for k, v in request.items() if k not in ("id", "op")}
        try:
            result = self._dispatch(client, op, args)
        except IntentError as exc:
            return {"id": rid, "ok": False, "error": str(exc), "code": exc.code}
        except Exception as exc:  # the daemon must outlive any one bad request
            log.exception("request %s failed", op)
            return {"id": rid, "ok": False, "error": f"internal error: {exc}", "code": "internal"}
        return {"id": rid, "ok": True, "result": result}

    def _dispatch(self, client: _Client, op: str, args: dict[str, Any]) -> dict[str, Any]:
        if op == "hello":
            if args.get("api", API_VERSION) != API_VERSION:
                raise IntentError("bad_request", f"this cartd speaks API {API_VERSION}, not {args.get('api')}")
            return {
                "api": API_VERSION,
                "cart_id": self.service.cart_id,
                "currency": self.service.currency,
                "daemon_version": self.daemon_version,
            }
        if op == "snapshot":
            return self.service.snapshot()
        if op == "subscribe":
            client.subscribed = True
            client.last_seq = -1  # the next push sends a snapshot at once
            self._dirty.set()
            return {}
        return self.service.intent(op, args)

    # -- pushing -----------------------------------------------------------------------------------

    def _enqueue(self, client: _Client, message: dict[str, Any]) -> None:
        if client.queue.full():
            log.warning("dropping a client that does not read its events")
            client.writer.close()
            self.clients.discard(client)
            return
        client.queue.put_nowait(message)

    async def _send_loop(self, client: _Client) -> None:
        while True:
            message = await client.queue.get()
            if message is None:
                return
            try:
                await self._send_now(client, message)
            except ConnectionError:
                return

    @staticmethod
    async def _send_now(client: _Client, message: dict[str, Any]) -> None:
        client.writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await client.writer.drain()

    def _push_effect(self, effect: Effect) -> None:
        message = {"event": "effect", "effect": {"t": round(effect.t, 3), "kind": effect.kind, "data": effect.data}}
        for client in list(self.clients):
            if client.subscribed:
                self._enqueue(client, message)

    async def _push_snapshots(self) -> None:
        """At once when something changed, but never more often than `snapshot_hz`."""
        loop = asyncio.get_running_loop()
        last = 0.0
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            wait = last + self.period_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            last = loop.time()
            seq = self.service.seq
            waiting = [c for c in self.clients if c.subscribed and c.last_seq != seq]
            if not waiting:
                continue
            message = {"event": "snapshot", "snapshot": self.service.snapshot()}
            for client in waiting:
                client.last_seq = seq
                self._enqueue(client, message)
