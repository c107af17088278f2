"""The weight book on disk: a row a weighing, only what is new written, a damaged file relearned."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from firmware.core.weightbook import KEPT
from firmware.daemon.bookstore import BookStore


def rows(path: Path) -> list[tuple[str, float, float]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT product, grams, weight FROM weighings ORDER BY id").fetchall()


def test_a_saved_book_loads_as_it_was_and_each_save_writes_only_what_is_new(tmp_path: Path) -> None:
    path = tmp_path / "weights.db"
    store = BookStore(path)
    book = store.load()
    for grams in (21.2, 21.6, 21.4):
        book.observe("gum", grams)
    book.observe("jam", 402.0, confirmed=True)
    assert store.save(book) == 4 and store.save(book) == 0
    book.observe("gum", 21.5)
    assert store.save(book) == 1
    assert len(rows(path)) == 5
    store.close()

    again = BookStore(path).load()
    assert again.estimate("gum") == pytest.approx(book.estimate("gum"))
    assert again.estimate("jam", min_n=1) == pytest.approx(book.estimate("jam", min_n=1))
    assert again.entries["jam"].confirmed == 1 and again.entries["gum"].confirmed == 0
    assert again.take_unsaved() == []  # loading is not learning


def test_a_product_keeps_only_its_latest_weighings_on_disk_too(tmp_path: Path) -> None:
    path = tmp_path / "weights.db"
    store = BookStore(path)
    book = store.load()
    for i in range(KEPT + 4):
        book.observe("tea", 100.0 + i)
        book.observe("gum", 21.0)
        store.save(book)
    kept = [grams for product, grams, _ in rows(path) if product == "tea"]
    assert kept == [100.0 + i for i in range(4, KEPT + 4)]
    assert store.load().entries["tea"].weighings == book.entries["tea"].weighings


def test_a_failed_save_writes_nothing_and_is_written_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "weights.db"
    store = BookStore(path)
    book = store.load()
    book.observe("gum", 21.4)
    store.db.execute(
        "CREATE TRIGGER full BEFORE INSERT ON marks BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )  # the last write of the transaction fails
    with pytest.raises(sqlite3.Error):
        store.save(book, {"fleet": 9})
    assert rows(path) == [] and store.mark("fleet") == 0  # both or neither
    store.db.execute("DROP TRIGGER full")
    assert store.save(book, {"fleet": 9}) == 1
    assert rows(path) == [("gum", 21.4, 1.0)] and store.mark("fleet") == 9


def test_a_damaged_file_is_moved_aside_and_the_book_relearned(tmp_path: Path) -> None:
    path = tmp_path / "weights.db"
    path.write_bytes(b"not a database, a power cut's leftovers" * 100)
    store = BookStore(path)
    book = store.load()
    assert book.entries == {} and (tmp_path / "weights.db.damaged").exists()
    book.observe("gum", 21.4)
    assert store.save(book) == 1
    assert rows(path) == [("gum", 21.4, 1.0)]


def test_an_older_book_is_imported_once_even_if_the_power_went_before_it_was_renamed(tmp_path: Path) -> None:
    legacy = tmp_path / "weights.json"
    legacy.write_text('{"gum": {"weighings": [[21.4, 1.0], [21.6, 1.0]], "confirmed": 0}}')
    store = BookStore(tmp_path / "weights.db")
    store.import_legacy(legacy, {})
    assert not legacy.exists()
    (tmp_path / "weights.json.imported").rename(legacy)  # as if the rename never happened
    store.import_legacy(legacy, {})
    assert store.load().entries["gum"].weighings == [(21.4, 1.0), (21.6, 1.0)]
    assert not legacy.exists()
