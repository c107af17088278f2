"""The daemon's SyncRunner against a real `cart-store` process on 127.0.0.1 (SQLite).

A session closed in the cart's journal is delivered on `wake()` and acknowledged by its row id;
with the store killed the outbox grows and the status says so, and once the store is back every
session is stored exactly once; catalog changes and confirmed weighings reach the callbacks.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from firmware.core.catalog import load_catalog
from firmware.journal import Journal
from firmware.sync.credentials import CredentialError, make_credential, save_credential
from firmware.sync.delivery import Backoff
from firmware.sync.runner import SyncRunner
from firmware.sync.weighings import ConfirmedWeighing, FleetWeighing
from tools.store_harness import CATALOG_CSV, StoreProcess, shop

CART = "cart-9"


@dataclass
class Store:
    server: StoreProcess
    db_url: str
    credential_path: Path
    workdir: Path

    def import_catalog(self, text: str) -> int:
        from cart_store.catalog import import_rows, parse_csv

        with self.db() as db:
            return import_rows(db, parse_csv(text))

    @contextmanager
    def db(self) -> Iterator[Any]:
        from cart_store.db import open_db

        engine, sessions = open_db(self.db_url)
        try:
            with sessions() as db:
                yield db
        finally:
            engine.dispose()

    def sessions(self) -> list[tuple[str, int]]:
        """(session id, charge count) for every session the store holds."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT s.session_id, COUNT(c.id) FROM sessions s LEFT JOIN charges c ON c.session_pk = s.id"
                        " GROUP BY s.id ORDER BY s.id"
                    )
                ).all()
        finally:
            engine.dispose()
        return [(row[0], int(row[1])) for row in rows]


@pytest.fixture
def store(sqlite_url: str, tmp_path: Path) -> Iterator[Store]:
    from cart_store.auth import hash_password
    from cart_store.db import Cart, Staff

    server = StoreProcess(sqlite_url, log_path=tmp_path / "store.log")
    credential = make_credential(CART, server.url)
    save_credential(tmp_path / "credential.json", credential)
    store = Store(server, sqlite_url, tmp_path / "credential.json", tmp_path)
    with store.db() as db:  # what `cart-store add-cart --credential` and `add-staff` do
        db.add(Cart(cart_id=CART, secret_b64=credential.secret_b64, created_unix=time.time()))
        db.add(Staff(username="sam", password_hash=hash_password("correct horse battery"), created_unix=time.time()))
        db.commit()
    store.import_catalog(CATALOG_CSV)
    server.start()
    try:
        yield store
    finally:
        server.stop()


def wait_for(predicate: Callable[[], Any], what: str, timeout_s: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class SlowRetry(Backoff):
    """Every failed row waits two minutes: only the runner's catch-up can deliver it sooner."""

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        return 120.0


@pytest.mark.timeout(60)
def test_closed_session_is_delivered_on_wake_and_acked_by_row_id(store: Store) -> None:
    journal = Journal(store.workdir / "journal.db")
    statuses: list[dict[str, Any]] = []
    # long idle and poll intervals: only wake() can make the delivery prompt
    runner = SyncRunner(
        "",
        store.credential_path,
        journal.path,
        on_status=statuses.append,
        idle_s=30.0,
        poll_interval_s=30.0,
    )
    runner.start()
    try:
        wait_for(lambda: runner.status()["ok"], "the first contact")  # the first poll found the store
        report = shop(journal, CART, "s1", random.Random(3))
        (row,) = journal.outbox_due(1e12)
        runner.wake()
        wait_for(lambda: journal.outbox_pending() == 0, "delivery after wake()")
        answer = journal.outbox_response(row.row_id)
        assert answer is not None and answer["session_id"] == "s1"
        assert answer["total_cents"] == report["total_cents"] and answer["cart_id"] == CART
        assert store.sessions() == [("s1", 0 if report["review"]["required"] else 1)]
        status = wait_for(lambda: (s := runner.status())["pending"] == 0 and s["ok"] and s, "an ok status")
        assert status["detail"] == "in sync" and status["last_sync_unix"] > time.time() - 30
        assert statuses and statuses[-1] == status  # the daemon was told
    finally:
        runner.stop()
        journal.close()


@pytest.mark.timeout(60)
def test_store_down_then_back_delivers_every_session_once(store: Store) -> None:
    journal = Journal(store.workdir / "journal.db")
    runner = SyncRunner(
        store.server.url,
        store.credential_path,
        journal.path,
        catalog_path=store.workdir / "catalog.csv",
        delivery_backoff=SlowRetry(cap_s=300.0),
        poll_backoff=Backoff(base_s=0.2, cap_s=0.5),
        poll_interval_s=0.5,
        idle_s=0.5,
    )
    runner.start()
    try:
        wait_for(lambda: runner.status()["ok"], "the first contact")
        store.server.kill()
        reports = {}
        for n, session_id in enumerate(["d1", "d2", "d3"], start=1):
            reports[session_id] = shop(journal, CART, session_id, random.Random(n))
            runner.wake()
            status = wait_for(lambda n=n: (s := runner.status())["pending"] == n and s, f"{n} pending")
            assert not status["ok"] and "unreachable" in status["detail"], status
        assert journal.outbox_next_due() > time.time() + 60  # the rows wait out SlowRetry
        down_since = time.time()
        store.server.start()
        wait_for(lambda: journal.outbox_pending() == 0, "delivery once the store is back")
        assert time.time() - down_since < 60  # caught up, not after the rows' two-minute backoff
        charges = {sid: 0 if report["review"]["required"] else 1 for sid, report in reports.items()}
        assert sorted(store.sessions()) == sorted(charges.items())  # each once, charged once unless for review
        status = wait_for(lambda: (s := runner.status())["ok"] and s["pending"] == 0 and s, "ok again")
        assert status["parked"] == 0 and status["catalog_version"] == 1
    finally:
        runner.stop()
        journal.close()


@pytest.mark.timeout(60)
def test_catalog_updates_and_confirmed_weighings_reach_the_callbacks(store: Store) -> None:
    from cart_store.db import Session
    from cart_store.decisions import decide

    journal = Journal(store.workdir / "journal.db")
    catalog_path = store.workdir / "cart" / "catalog.csv"
    catalogs: list[tuple[Path, int]] = []
    weighings: list[ConfirmedWeighing] = []

    def on_catalog(path: Path, version: int) -> None:
        catalogs.append((path, version))

    def on_weighings(batch: list[ConfirmedWeighing]) -> None:
        weighings.extend(batch)

    def runner() -> SyncRunner:
        return SyncRunner(
            "",
            store.credential_path,
            journal.path,
            catalog_path=catalog_path,
            on_catalog=on_catalog,
            on_weighings=on_weighings,
            poll_interval_s=0.3,
            idle_s=0.3,
        )

    first = runner()
    first.start()
    try:
        wait_for(lambda: catalogs, "the first catalog")
        assert catalogs == [(catalog_path, 1)]
        assert len(load_catalog(catalog_path).products) == 5
        assert store.import_catalog(CATALOG_CSV.replace("Chewing gum,99", "Chewing gum,109")) == 2
        wait_for(lambda: len(catalogs) == 2, "the changed catalog")
        assert catalogs[1] == (catalog_path, 2)
        assert load_catalog(catalog_path).lookup("96385074").product.price_cents == 109

        seed = next(s for s in range(100) if shop(Journal(None), CART, "probe", random.Random(s))["review"]["required"])
        shop(journal, CART, "needs-review", random.Random(seed))
        first.wake()
        wait_for(lambda: journal.outbox_pending() == 0, "the review session delivered")
        with store.db() as db:
            pk = db.query(Session.id).filter(Session.session_id == "needs-review").scalar()
            decide(db, pk, "sam", "approve")
        wait_for(lambda: weighings, "the confirmed weighings")
        assert {w.session_id for w in weighings} == {"needs-review"} and all(w.weight_g > 0 for w in weighings)
        assert all(w.source == "approved" for w in weighings)
    finally:
        first.stop()
    # a new runner (a daemon restart) picks up where the last stopped: nothing offered twice
    taken = len(weighings)
    second = runner()
    second.start()
    try:
        wait_for(lambda: second.status()["ok"], "the restarted runner's first poll")
        time.sleep(0.7)  # two more polls
        assert len(weighings) == taken and len(catalogs) == 2
    finally:
        second.stop()
        journal.close()


@pytest.mark.timeout(60)
def test_a_credential_the_store_does_not_know_shows_in_the_status(store: Store) -> None:
    stranger = store.workdir / "stranger.json"
    save_credential(stranger, make_credential("cart-unknown", store.server.url))
    runner = SyncRunner("", stranger, store.workdir / "journal.db", poll_interval_s=0.3, idle_s=0.3)
    runner.start()
    try:
        status = wait_for(lambda: "credential" in (s := runner.status())["detail"] and s, "the refusal in the status")
        assert not status["ok"] and status["last_sync_unix"] is None and status["pending"] == 0
    finally:
        runner.stop()
    with pytest.raises(CredentialError, match="http"):
        SyncRunner("ftp://store", store.credential_path, store.workdir / "journal.db")


@pytest.mark.timeout(60)
def test_the_fleets_weighings_reach_the_cart_once_with_their_own_cursor(store: Store) -> None:
    from cart_store.db import FleetWeighing as Row

    def add_rows(cart_id: str, grams: list[float]) -> None:
        with store.db() as db:
            db.add_all(
                Row(cart_id=cart_id, session_id="s", code="96385074", weight_g=g, received_unix=0) for g in grams
            )
            db.commit()

    add_rows("cart-8", [21.4, 21.6])
    add_rows(CART, [99.0])  # the cart's own: it learned them when it settled the session
    journal = Journal(store.workdir / "journal.db")
    fleet: list[FleetWeighing] = []

    def runner() -> SyncRunner:
        return SyncRunner(
            "",
            store.credential_path,
            journal.path,
            on_weighings=lambda batch: None,
            on_fleet_weighings=fleet.extend,
            poll_interval_s=0.3,
            idle_s=0.3,
        )

    first = runner()
    first.start()
    try:
        wait_for(lambda: len(fleet) == 2, "the fleet's weighings")
        add_rows("cart-8", [21.5])
        wait_for(lambda: len(fleet) == 3, "a new fleet weighing")
    finally:
        first.stop()
    assert [w.weight_g for w in fleet] == [21.4, 21.6, 21.5] and {w.code for w in fleet} == {"96385074"}
    state = json.loads(first.state_path.read_text())
    assert state["fleet_since"] == fleet[-1].id and state.get("weighings_since", 0) == 0
    second = runner()  # a restart asks from where the last one stopped
    second.start()
    try:
        wait_for(lambda: second.status()["ok"], "the restarted runner's first poll")
        time.sleep(0.7)
        assert len(fleet) == 3
    finally:
        second.stop()
        journal.close()
