"""The weight book on the cart's SD card: one SQLite row a weighing, written as it is learned.

The book is rewritten by no one: a session that settles adds its few weighings in one transaction
(WAL, synchronous FULL), with the id of the last store weighing learned when they came from the
store, so a power cut leaves both or neither. A product keeps only its latest `KEPT` rows, as the
book in memory does. A book saved as `weights.json` by an older cart is imported once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from firmware.core.weightbook import KEPT, WeightBook, WeightStats
from firmware.sqlitedb import connect_durable, transaction

log = logging.getLogger("cartd.book")
LEGACY_MARK = "legacy-book-imported"  # set with the imported rows: never imported twice

SCHEMA = """
CREATE TABLE IF NOT EXISTS weighings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product TEXT NOT NULL,
    grams REAL NOT NULL,
    weight REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS weighings_by_product ON weighings(product, id);
CREATE TABLE IF NOT EXISTS confirmed (
    product TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    name TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
);
"""


class BookStore:
    """`weights.db` in the daemon's state folder. A file SQLite cannot read is moved aside
    (`.damaged`) and the book is relearned: learning is lost, never a session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pending_marks: dict[str, int] = {}  # given to a save that did not go through: written with the next
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._open()
        except sqlite3.DatabaseError as exc:
            self.db = self._start_over(exc)

    def _start_over(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        log.warning("%s unreadable (%s): moved aside, starting a new weight book", self.path, exc)
        for suffix in ("", "-wal", "-shm"):
            damaged = Path(f"{self.path}{suffix}")
            if damaged.exists():
                damaged.replace(Path(f"{self.path}{suffix}.damaged"))
        return self._open()

    def _open(self) -> sqlite3.Connection:
        db = connect_durable(self.path, check_same_thread=False)
        try:
            db.executescript(SCHEMA)
            db.execute("SELECT count(*) FROM weighings").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.db.close()

    def _set_marks(self, marks: dict[str, int]) -> None:
        self.db.executemany(
            "INSERT INTO marks (name, last_id) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET last_id = excluded.last_id",
            list(marks.items()),
        )

    def load(self) -> WeightBook:
        """The book as saved, keeping what it learns from now on for `save`."""
        book = WeightBook(unsaved=[])
        try:
            weighings = self.db.execute("SELECT product, grams, weight FROM weighings ORDER BY id").fetchall()
            confirmed = self.db.execute("SELECT product, count FROM confirmed").fetchall()
        except sqlite3.DatabaseError as exc:  # damaged past its header
            self.db.close()
            self.db = self._start_over(exc)
            return book
        for product, grams, weight in weighings:
            book.add_weighing(product, float(grams), float(weight))
        for product, count in confirmed:
            book.entries.setdefault(product, WeightStats()).confirmed = int(count)
        return book

    def mark(self, name: str) -> int:
        """The id of the last store weighing of this stream (`fleet`, `confirmed`) saved with the book."""
        row = self.db.execute("SELECT last_id FROM marks WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def learned_to(self, name: str) -> int:
        """The id of the last store weighing of this stream in the book in memory: past `mark` when a
        save failed (it is written with the next), so the runner offering them again is not learned twice."""
        return self._pending_marks.get(name) or self.mark(name)

    def save(self, book: WeightBook, marks: dict[str, int] | None = None) -> int:
        """Add what the book learned since the last save, and the marks, in one transaction.
        Returns the number of weighings written."""
        learned = book.take_unsaved()
        self._pending_marks.update(marks or {})
        if not learned and not self._pending_marks:
            return 0
        try:
            with transaction(self.db) as db:
                db.executemany(
                    "INSERT INTO weighings (product, grams, weight) VALUES (?,?,?)",
                    [(product, grams, weight) for product, grams, weight, _confirmed in learned],
                )
                db.executemany(
                    "INSERT INTO confirmed (product, count) VALUES (?, 1) "
                    "ON CONFLICT(product) DO UPDATE SET count = count + 1",
                    [(product,) for product, _grams, _weight, confirmed in learned if confirmed],
                )
                for product in {product for product, _grams, _weight, _confirmed in learned}:
                    db.execute(
                        "DELETE FROM weighings WHERE product = ? AND id NOT IN "
                        "(SELECT id FROM weighings WHERE product = ? ORDER BY id DESC LIMIT ?)",
                        (product, product, KEPT),
                    )
                self._set_marks(self._pending_marks)
        except BaseException:
            book.unsaved = learned + (book.unsaved or [])  # not written: offered again at the next save
            raise
        self._pending_marks.clear()
        return len(learned)

    def import_legacy(self, book_json: Path, mark_files: dict[str, Path]) -> None:
        """An older cart's `weights.json` and mark files, once: then renamed `.imported`."""
        if book_json.exists() and self.mark(LEGACY_MARK):  # imported, then the power went before the rename
            book_json.replace(book_json.with_name(book_json.name + ".imported"))
        if book_json.exists():
            try:
                legacy = WeightBook.from_dict(json.loads(book_json.read_text(encoding="utf-8")))
            except (ValueError, TypeError, KeyError, OSError) as exc:  # a damaged book is relearned
                log.warning("%s unreadable (%s): not imported", book_json, exc)
                legacy = WeightBook()
            rows = [(key, grams, weight) for key, stats in legacy.entries.items() for grams, weight in stats.weighings]
            counts = [(key, stats.confirmed) for key, stats in legacy.entries.items() if stats.confirmed]
            with transaction(self.db) as db:
                db.executemany("INSERT INTO weighings (product, grams, weight) VALUES (?,?,?)", rows)
                db.executemany("INSERT OR REPLACE INTO confirmed (product, count) VALUES (?,?)", counts)
                self._set_marks({LEGACY_MARK: 1})
            book_json.replace(book_json.with_name(book_json.name + ".imported"))
        for name, path in mark_files.items():
            if not path.exists():
                continue
            try:
                last_id = int(path.read_text().strip())
            except ValueError:
                last_id = 0
            if last_id > self.mark(name):
                with transaction(self.db):
                    self._set_marks({name: last_id})
            path.replace(path.with_name(path.name + ".imported"))
