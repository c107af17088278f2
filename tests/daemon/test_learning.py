"""The daemon's weight book: staff-confirmed and fleet weighings are learned once each, and kept."""

from __future__ import annotations

import json
from pathlib import Path

from firmware.daemon.config import parse_config
from firmware.daemon.main import BOOK_FILE, Daemon
from firmware.sync.weighings import ConfirmedWeighing, FleetWeighing
from tools.store_harness import CATALOG_CSV

GUM = "96385074"


def daemon(tmp_path: Path) -> Daemon:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG_CSV)
    config = parse_config({"cart": {"id": "cart-1"}, "daemon": {"state_dir": str(tmp_path / "state")}})
    return Daemon(config, catalog)


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
    saved = json.loads((tmp_path / "state" / BOOK_FILE).read_text())
    assert sum(weight for _, weight in saved[key]["weighings"]) == 5
    again = daemon(tmp_path)
    again._learn_fleet(fleet)
    assert again.book.entries[key].n == 5
    again.journal.close()


def test_a_book_saved_by_an_older_cart_loads_and_a_damaged_one_is_relearned(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    old = daemon(tmp_path)
    key = old.catalog.lookup(GUM).product.key
    old.journal.close()
    (state / BOOK_FILE).write_text(json.dumps({key: [4, 21.5, 0.16, 1]}))  # n, mean, m2, confirmed
    again = daemon(tmp_path)
    known = again.book.estimate(key)
    assert known is not None and known[2] == 4 and abs(known[0] - 21.5) < 1e-9
    again.journal.close()
    (state / BOOK_FILE).write_text(json.dumps({key: {"confirmed": 1}}))  # cut short
    damaged = daemon(tmp_path)
    assert damaged.book.entries == {}
    damaged.journal.close()
