"""The daemon's weight book: staff-confirmed and fleet weighings are learned once each, and kept."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from firmware.daemon.main import BOOK_DB, LEGACY_BOOK_FILE, LEGACY_FLEET_FILE
from firmware.sync.weighings import ConfirmedWeighing, FleetWeighing
from tests.daemon.cart_daemon import GUM, shop_gum
from tests.daemon.cart_daemon import make_daemon as daemon


def test_fleet_and_confirmed_weighings_are_learned_once_each_and_survive_a_restart(tmp_path: Path) -> None:
    d = daemon(tmp_path)
    key = d.catalog.lookup(GUM).product.key
    fleet = [FleetWeighing(1, GUM, 21.4), FleetWeighing(2, GUM, 21.6), FleetWeighing(3, "0000000000000", 50.0)]
    d._learn_fleet(fleet)
    d._learn_fleet(fleet[:2])  # offered again (the runner is at least once): skipped by id
    assert d.book.entries[key].n == 2 and d.book.entries[key].confirmed == 0
    # the staff's ids are a sequence of their own: id 1 there is not fleet weighing 1
    d._learn_confirmed([ConfirmedWeighing(1, "s1", GUM, 21.5, "approved")])
    assert d.book.entries[key].n == 5 and d.book.entries[key].confirmed == 1
    d.journal.close()
    d.books.close()
    with sqlite3.connect(tmp_path / "state" / BOOK_DB) as db:
        assert db.execute("SELECT sum(weight) FROM weighings WHERE product = ?", (key,)).fetchone() == (5,)
        assert dict(db.execute("SELECT name, last_id FROM marks")) == {"fleet": 3, "confirmed": 1}
    again = daemon(tmp_path)
    again._learn_fleet(fleet)
    assert again.book.entries[key].n == 5 and again.book.entries[key].confirmed == 1
    again.journal.close()
    again.books.close()


def test_a_book_saved_by_an_older_cart_is_imported_once_and_a_damaged_one_is_relearned(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    first = daemon(tmp_path)
    catalog_key = first.catalog.lookup(GUM).product.key
    first.journal.close()
    first.books.close()
    (state / BOOK_DB).unlink()
    (state / LEGACY_BOOK_FILE).write_text(json.dumps({catalog_key: [4, 21.5, 0.16, 1]}))  # n, mean, m2, confirmed
    (state / LEGACY_FLEET_FILE).write_text("7")
    again = daemon(tmp_path)
    known = again.book.estimate(catalog_key)
    assert known is not None and known[2] == 4 and abs(known[0] - 21.5) < 1e-9
    assert again.book.entries[catalog_key].confirmed == 1 and again.books.mark("fleet") == 7
    assert not (state / LEGACY_BOOK_FILE).exists() and (state / f"{LEGACY_BOOK_FILE}.imported").exists()
    again.journal.close()
    again.books.close()
    twice = daemon(tmp_path)
    assert twice.book.estimate(catalog_key) == known  # imported once: not twice over
    twice.journal.close()
    twice.books.close()
    (state / LEGACY_BOOK_FILE).write_text(json.dumps({catalog_key: {"confirmed": 1}}))  # cut short
    (state / BOOK_DB).unlink()
    damaged = daemon(tmp_path)
    assert damaged.book.entries == {}


def test_a_settled_session_teaches_the_book_on_disk(tmp_path: Path) -> None:
    d = daemon(tmp_path)
    key = d.catalog.lookup(GUM).product.key
    assert not shop_gum(d, 22.1)["review"]["required"]
    d.journal.close()
    d.books.close()
    with sqlite3.connect(tmp_path / "state" / BOOK_DB) as db:
        assert db.execute("SELECT product, grams FROM weighings").fetchall() == [(key, pytest.approx(22.1))]
    again = daemon(tmp_path)
    assert again.book.entries[key].weighings == [(pytest.approx(22.1), 1.0)]
    again.journal.close()
    again.books.close()


def test_weighings_from_the_sync_thread_are_learned_on_the_loop(tmp_path: Path) -> None:
    d = daemon(tmp_path)
    key = d.catalog.lookup(GUM).product.key
    threads: list[int] = []

    def learn(weighings: list[FleetWeighing]) -> None:
        threads.append(threading.get_ident())
        d._learn_fleet(weighings)

    async def run() -> None:
        d.loop = asyncio.get_running_loop()
        sync = threading.Thread(target=d.on_loop, args=(learn, [FleetWeighing(1, GUM, 21.4)]))
        sync.start()
        await asyncio.to_thread(sync.join)

    asyncio.run(run())
    assert threads == [threading.main_thread().ident] and d.book.entries[key].n == 1
    d.journal.close()
    d.books.close()


def test_weighings_learned_but_not_saved_are_not_learned_twice_when_offered_again(tmp_path: Path) -> None:
    d = daemon(tmp_path)
    key = d.catalog.lookup(GUM).product.key
    fleet = [FleetWeighing(1, GUM, 21.4), FleetWeighing(2, GUM, 21.6)]
    d.books.db.execute("CREATE TRIGGER full BEFORE INSERT ON weighings BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.Error):
        d._learn_fleet(fleet)  # the runner hears of it and offers them again later
    d.books.db.execute("DROP TRIGGER full")
    d._learn_fleet([*fleet, FleetWeighing(3, GUM, 21.5)])
    assert d.book.entries[key].n == 3
    d.journal.close()
    d.books.close()
    with sqlite3.connect(tmp_path / "state" / BOOK_DB) as db:
        assert db.execute("SELECT grams FROM weighings").fetchall() == [(21.4,), (21.6,), (21.5,)]
        assert db.execute("SELECT last_id FROM marks").fetchall() == [(3,)]
