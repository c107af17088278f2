"""Delivers the journal's outbox to the store until each row is acknowledged, exactly once in effect.

At-least-once sending plus the store's idempotent upsert gives exactly-once storage: a row is
sent until the store answers 200/201, then acknowledged by its row id (never by time). A crash
between send and ack just sends again and gets the stored answer. Failures wait with exponential
backoff and full jitter; answers that resending cannot fix (409, 413, 422, 403) park the row for a
long wait and leave the reason in `last_error`. Clock, sleep and randomness are injected.

Each worker needs its own `Journal` on the journal file (SQLite connections stay in one thread).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from firmware.journal import Journal, OutboxRow
from firmware.sync.client import StoreClient
from firmware.sync.outbox import TOPIC

PARK_STATUSES = frozenset({403, 409, 413, 422})


@dataclass(frozen=True, slots=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0
    parked_s: float = 3600.0

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempts)]."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * 2.0 ** min(attempts, 30)))


@dataclass(slots=True)
class DeliveryStats:
    attempts: int = 0
    acked: int = 0
    replayed: int = 0
    network_errors: int = 0
    server_errors: int = 0
    parked: int = 0
    retry_wait_s: list[float] = field(default_factory=list)


class DeliveryWorker:
    def __init__(
        self,
        journal: Journal,
        client: StoreClient,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = time.sleep,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        batch: int = 20,
    ) -> None:
        self.journal = journal
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.stats = DeliveryStats()

    def deliver_due(self) -> int:
        """One pass over the rows due now; returns how many were acknowledged."""
        acked = 0
        for row in self.journal.outbox_due(self.clock(), self.batch):
            acked += self.deliver(row)
        return acked

    def deliver(self, row: OutboxRow) -> bool:
        self.stats.attempts += 1
        if row.topic != TOPIC:
            self._park(row, f"unknown topic {row.topic!r}")
            return False
        try:
            reply = self.client.put_session_message(row.payload)
        except httpx.TransportError as exc:  # refused, reset, timed out: the store may or may not have it
            self.stats.network_errors += 1
            self._retry(row, f"network: {type(exc).__name__}: {exc}")
            return False
        except ValueError as exc:  # the payload cannot be sent as JSON: no retry will change that
            self._park(row, f"payload: {exc}")
            return False
        if reply.ok:
            if self.journal.outbox_ack(row.row_id, reply.body, self.clock()):
                self.stats.acked += 1
                self.stats.replayed += reply.replayed
            return True
        detail = str(reply.body.get("detail", ""))[:300]
        if reply.status in PARK_STATUSES:
            self._park(row, f"HTTP {reply.status}: {detail}")
        else:
            self.stats.server_errors += 1
            self._retry(row, f"HTTP {reply.status}: {detail}")
        return False

    def _retry(self, row: OutboxRow, error: str) -> None:
        wait = self.backoff.delay_s(row.attempts, self.rng)
        self.stats.retry_wait_s.append(wait)
        self.journal.outbox_attempted(row.row_id, self.clock() + wait, error)

    def _park(self, row: OutboxRow, error: str) -> None:
        self.stats.parked += 1
        self.journal.outbox_attempted(row.row_id, self.clock() + self.backoff.parked_s, f"parked: {error}")

    def run(self, should_stop: Callable[[], bool], idle_s: float = 5.0) -> None:
        """The daemon's loop: deliver what is due, sleep until the next row is due (at most idle_s)."""
        while not should_stop():
            self.deliver_due()
            self.sleep(self._wait_s(idle_s))

    def drain(self, timeout_s: float, idle_s: float = 1.0) -> bool:
        """Deliver until nothing is pending or timeout_s passes on the injected clock; True if empty."""
        deadline = self.clock() + timeout_s
        while self.journal.outbox_pending():
            if self.clock() >= deadline:
                return False
            self.deliver_due()
            if self.journal.outbox_pending():
                self.sleep(min(self._wait_s(idle_s), max(deadline - self.clock(), 0.0)))
        return True

    def _wait_s(self, idle_s: float) -> float:
        due = self.journal.outbox_next_due()
        if due is None:
            return idle_s
        return min(max(due - self.clock(), 0.0), idle_s)
