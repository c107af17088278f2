"""The delivery worker: backoff with jitter, offline then back, crash between send and ack, parking."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from firmware.journal import Journal
from firmware.sync.client import Reply, StoreClient
from firmware.sync.delivery import Backoff, DeliveryWorker
from tests.store.support import rig
from tools.store_harness import shop


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Switchable:
    """A store client whose network can be unplugged."""

    def __init__(self, client: StoreClient) -> None:
        self.client = client
        self.up = True
        self.sent = 0

    def put_session_message(self, payload: dict) -> Reply:
        self.sent += 1
        if not self.up:
            raise httpx.ConnectError("connection refused")
        return self.client.put_session_message(payload)


def stored_sessions(app) -> list[str]:
    from cart_store.db import Session

    with app.state.sessions() as db:
        return [row.session_id for row in db.query(Session).order_by(Session.id)]


def test_backoff_is_exponential_with_full_jitter(tmp_path: Path) -> None:
    clock = FakeClock()
    journal = Journal(tmp_path / "j.db")
    shop(journal, "cart-a", "s1", random.Random(1))
    down = Switchable(None)  # type: ignore[arg-type]
    down.up = False
    worker = DeliveryWorker(
        journal, down, clock=clock, sleep=clock.sleep, rng=random.Random(7), backoff=Backoff(1.0, 8.0)
    )
    for attempt in range(8):
        assert worker.deliver_due() == 0
        (row,) = journal.db.execute("SELECT attempts, next_attempt_unix, last_error FROM outbox").fetchall()
        assert row[0] == attempt + 1 and row[2].startswith("network: ConnectError")
        wait = row[1] - clock.now
        assert 0.0 <= wait <= min(8.0, 2.0**attempt)
        assert worker.deliver_due() == 0 or wait == 0.0
        clock.now = row[1]
    waits = worker.stats.retry_wait_s
    assert len(set(waits)) == len(waits) and max(waits) > 1.0  # jittered, and growing past the base
    assert worker.stats.network_errors == down.sent


def test_offline_cart_keeps_working_and_syncs_when_the_store_is_back(db_url: str, tmp_path: Path) -> None:
    with rig(db_url) as r:
        clock = FakeClock()
        journal = Journal(tmp_path / "j.db")
        link = Switchable(r.carts["cart-a"])
        link.up = False
        worker = DeliveryWorker(journal, link, clock=clock, sleep=clock.sleep, rng=random.Random(3))
        rng = random.Random(9)
        for n in range(4):
            shop(journal, "cart-a", f"off-{n}", rng)
            worker.deliver_due()
            clock.sleep(5.0)
        assert journal.outbox_pending() == 4 and stored_sessions(r.app) == []
        link.up = True
        assert worker.drain(timeout_s=3600.0)
        assert stored_sessions(r.app) == [f"off-{n}" for n in range(4)]  # in row order
        assert worker.stats.acked == 4


def test_crash_between_send_and_ack_resends_and_gets_the_stored_answer(db_url: str, tmp_path: Path) -> None:
    with rig(db_url) as r:
        path = tmp_path / "j.db"
        journal = Journal(path)
        shop(journal, "cart-a", "s1", random.Random(2))

        class PowerCut(BaseException):
            pass

        def cut(*_args: object) -> bool:
            raise PowerCut

        journal.outbox_ack = cut  # type: ignore[method-assign]
        with pytest.raises(PowerCut):
            DeliveryWorker(journal, r.carts["cart-a"]).deliver_due()
        journal.close()
        assert stored_sessions(r.app) == ["s1"]

        after_boot = Journal(path)
        assert after_boot.outbox_pending() == 1
        worker = DeliveryWorker(after_boot, r.carts["cart-a"])
        assert worker.deliver_due() == 1
        assert worker.stats.replayed == 1 and after_boot.outbox_pending() == 0
        receipt = r.carts["cart-a"].receipt("s1").body
        (row_id,) = after_boot.db.execute("SELECT row_id FROM outbox").fetchone()
        assert after_boot.outbox_response(row_id)["receipt_id"] == receipt["receipt_id"]
        assert stored_sessions(r.app) == ["s1"]


def test_conflict_is_parked_not_retried_fast(sqlite_url: str, tmp_path: Path) -> None:
    with rig(sqlite_url) as r:
        clock = FakeClock()
        journal = Journal(tmp_path / "j.db")
        shop(journal, "cart-a", "s1", random.Random(4))
        (row,) = journal.outbox_due(clock())
        other = {**row.payload, "message_id": "some-other-message-1"}
        other["report"] = {**other["report"], "stats": {"edited": True}}
        assert r.carts["cart-a"].put_session_message(other).status == 201
        worker = DeliveryWorker(journal, r.carts["cart-a"], clock=clock, backoff=Backoff(parked_s=3600.0))
        assert worker.deliver_due() == 0
        attempts, next_at, error = journal.db.execute(
            "SELECT attempts, next_attempt_unix, last_error FROM outbox"
        ).fetchone()
        assert error.startswith("parked: HTTP 409") and next_at == clock.now + 3600.0 and attempts == 1
        assert worker.stats.parked == 1 and journal.outbox_pending() == 1


def test_rows_are_acked_by_id_and_a_clock_jump_back_does_not_strand_them(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    rng = random.Random(6)
    shop(journal, "c", "s1", rng)
    shop(journal, "c", "s2", rng)
    first, second = journal.outbox_due(0.0)
    assert journal.outbox_ack(first.row_id, {"ok": 1}, 5.0)
    assert not journal.outbox_ack(first.row_id, {"ok": 2}, 6.0)  # already acknowledged
    assert [r.row_id for r in journal.outbox_due(0.0)] == [second.row_id]
    journal.outbox_attempted(second.row_id, 2_000_000_000.0, "network")
    assert journal.outbox_due(2_000_000_000.0 - 3600.0) == []  # due in an hour: wait
    assert [r.row_id for r in journal.outbox_due(1_000.0)] == [second.row_id]  # the clock jumped back
