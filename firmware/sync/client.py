"""The cart's HTTP client for the store: every request signed with the cart's own credential.

Network failures surface as `httpx.TransportError` for the caller (the delivery worker) to
classify; HTTP answers come back as a `Reply`. A 401 that says the timestamp was stale carries the
store's time: the client learns the offset (a Pi without an RTC may boot with a wrong clock) and
signs the request once more.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from firmware.sync.credentials import Credential
from firmware.sync.signing import signed_headers


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class StoreClient:
    def __init__(
        self,
        credential: Credential,
        *,
        base_url: str | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.credential = credential
        self.clock = clock
        self.clock_offset_s = 0.0
        self.http = http or httpx.Client(  # `http`: e.g. a Starlette TestClient in tests
            base_url=base_url or credential.store_url, timeout=timeout_s, transport=transport
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StoreClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, payload: Any = None, params: dict[str, Any] | None = None) -> Reply:
        body = b""
        if payload is not None:
            body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
        for attempt in range(2):
            reply, store_time = self._send(method, path, body, params)
            if reply.status == 401 and store_time is not None and attempt == 0:
                self.clock_offset_s = store_time - self.clock()
                continue
            return reply
        return reply

    def _send(self, method: str, path: str, body: bytes, params: dict[str, Any] | None) -> tuple[Reply, float | None]:
        headers = {"Content-Type": "application/json"} if body else {}
        request = self.http.build_request(method, path, content=body or None, params=params, headers=headers)
        target = request.url.raw_path.decode("ascii")
        request.headers.update(
            signed_headers(
                self.credential.cart_id,
                self.credential.secret,
                method,
                target,
                body,
                self.clock() + self.clock_offset_s,
            )
        )
        response = self.http.send(request)
        try:
            data = response.json()
        except ValueError:
            data = {"detail": response.text[:500]}
        if not isinstance(data, dict):
            data = {"value": data}
        store_time = response.headers.get("X-Store-Time")
        reply = Reply(response.status_code, data, response.headers.get("Idempotent-Replayed") == "true")
        return reply, float(store_time) if store_time else None

    # -- the store API (store/PROTOCOL.md) -------------------------------------------------------

    def _cart_path(self) -> str:
        return f"/v1/carts/{quote(self.credential.cart_id, safe='')}"

    def put_session_message(self, payload: dict[str, Any]) -> Reply:
        session = quote(str(payload["session_id"]), safe="")
        path = f"{self._cart_path()}/sessions/{session}/messages/{int(payload['sequence'])}"
        return self.request("PUT", path, payload)

    def catalog_since(self, version: int) -> Reply:
        return self.request("GET", "/v1/catalog", params={"since": version})

    def receipt(self, session_id: str) -> Reply:
        return self.request("GET", f"{self._cart_path()}/sessions/{quote(session_id, safe='')}/receipt")

    def confirmed_weighings(self, since: int, limit: int = 500) -> Reply:
        return self.request("GET", f"{self._cart_path()}/confirmed-weighings", params={"since": since, "limit": limit})

    def fleet_weighings(self, since: int, limit: int = 500) -> Reply:
        return self.request("GET", f"{self._cart_path()}/fleet-weighings", params={"since": since, "limit": limit})
