"""The cart's journal: every core input and every decision, appended to SQLite before it is acted on.

WAL with `synchronous=FULL`, one transaction per entry, so a crash or power cut loses nothing that
was acted on. After a restart the open session is rebuilt by feeding its journaled inputs to a
fresh core (`firmware.pipeline.recover`); the journaled decisions let a test check the rebuild is
exact. Raw scale blocks go to their own table: evidence for staff, not needed to rebuild, so they
are written a second at a time (ten fsyncs a second would wear an SD card for nothing).

The journal does not grow for ever (`prune`): it keeps the raw samples of the latest sessions and
the whole journal of more of them. It never touches a session that is open, was abandoned (kept
for staff) or whose report the store has not acknowledged. "Latest" is by order of opening, not by
clock: a Pi has no RTC.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.core.events import Event, ScaleSampled, event_from_dict, event_to_dict
from firmware.sqlitedb import connect_durable, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    cart_id TEXT,
    opened_unix REAL NOT NULL,
    catalog TEXT,
    catalog_sha256 TEXT,
    state TEXT NOT NULL DEFAULT 'open',
    report TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(session_id),
    t REAL NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('input', 'effect', 'state')),
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_session ON entries(session_id, seq);
CREATE TABLE IF NOT EXISTS samples (
    session_id TEXT NOT NULL,
    t REAL NOT NULL,
    sps REAL NOT NULL,
    values_g TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_by_session ON samples(session_id, t);
CREATE TABLE IF NOT EXISTS outbox (
    row_id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL UNIQUE,
    session_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_unix REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_unix REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    acked_unix REAL,
    response TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(acked_unix, next_attempt_unix);
CREATE INDEX IF NOT EXISTS outbox_by_session ON outbox(session_id);
"""


SAMPLE_FLUSH_S = 1.0  # raw samples are written in blocks spanning this long (and before any reader)


class JournalError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class SessionRow:
    session_id: str
    cart_id: str | None
    catalog: str | None
    catalog_sha256: str | None
    state: str


class Journal:
    """`path=None` keeps the journal in memory (replays); a file path makes it durable."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path is not None:
            self.db = connect_durable(self.path)
        else:
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self._samples: list[tuple[str, float, float, str]] = []  # raw blocks not yet written
        self.commits = 0  # transactions committed: a write that went through (after a failed one)

    def close(self) -> None:
        try:
            self.flush_samples()
        finally:  # samples that cannot be written are lost; the connection is closed all the same
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic step: later issues add their rows (the outbox) to the same transaction."""
        with transaction(self.db) as db:
            yield db
        self.commits += 1

    # -- sessions ------------------------------------------------------------------------------

    def open_session(
        self, session_id: str, cart_id: str | None, catalog: str | None, catalog_sha256: str | None
    ) -> None:
        with self.transaction() as db:
            row = db.execute("SELECT state FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
            if row is not None:
                raise JournalError(f"session {session_id} is already in the journal ({row[0]})")
            db.execute(
                "INSERT INTO sessions (session_id, cart_id, opened_unix, catalog, catalog_sha256) VALUES (?,?,?,?,?)",
                (session_id, cart_id, time.time(), catalog, catalog_sha256),
            )

    def close_session(self, session_id: str, report: dict[str, Any], outbox: dict[str, Any] | None = None) -> None:
        """End the session; `outbox` (a message for the store) is queued in the same transaction."""
        self.flush_samples()
        with self.transaction() as db:
            db.execute(
                "UPDATE sessions SET state = 'ended', report = ? WHERE session_id = ?",
                (json.dumps(report, sort_keys=True), session_id),
            )
            if outbox is not None:
                db.execute(
                    "INSERT INTO outbox (message_id, session_id, topic, payload, created_unix) VALUES (?,?,?,?,?)",
                    (
                        outbox["message_id"],
                        session_id,
                        outbox["topic"],
                        json.dumps(outbox["payload"], sort_keys=True),
                        time.time(),
                    ),
                )

    def abandon_session(self, session_id: str, reason: str) -> None:
        """A session that cannot be carried on: kept whole in the journal for staff, no longer open."""
        self.flush_samples()
        with self.transaction() as db:
            db.execute(
                "UPDATE sessions SET state = 'abandoned', report = ? WHERE session_id = ?",
                (json.dumps({"abandoned": reason}), session_id),
            )

    def open_sessions(self) -> list[SessionRow]:
        rows = self.db.execute(
            "SELECT session_id, cart_id, catalog, catalog_sha256, state FROM sessions WHERE state = 'open'"
            " ORDER BY opened_unix"
        ).fetchall()
        return [SessionRow(*row) for row in rows]

    def session(self, session_id: str) -> SessionRow | None:
        row = self.db.execute(
            "SELECT session_id, cart_id, catalog, catalog_sha256, state FROM sessions WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        return SessionRow(*row) if row else None

    def report(self, session_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT report FROM sessions WHERE session_id = ?", (session_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    # -- entries -------------------------------------------------------------------------------

    def record_input(self, session_id: str, event: Event) -> None:
        data = event_to_dict(event)
        self._append(session_id, [(event.t, "input", data["kind"], data)])

    def record_effects(self, session_id: str, effects: Iterable[Any]) -> None:
        rows = [(e.t, "effect", e.kind, e.data) for e in effects]
        if rows:
            self._append(session_id, rows)

    def record_state(self, session_id: str, t: float, kind: str, data: dict[str, Any]) -> None:
        self._append(session_id, [(t, "state", kind, data)])

    def _append(self, session_id: str, rows: list[tuple[float, str, str, dict[str, Any]]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO entries (session_id, t, role, kind, data) VALUES (?,?,?,?,?)",
                [(session_id, t, role, kind, json.dumps(data, sort_keys=True)) for t, role, kind, data in rows],
            )

    def record_samples(self, session_id: str, block: ScaleSampled) -> None:
        pending = self._samples
        if pending and (pending[0][0] != session_id or not 0.0 <= block.t - pending[0][1] < SAMPLE_FLUSH_S):
            self.flush_samples()
        pending.append((session_id, block.t, block.sps, json.dumps(list(block.values_g))))

    def flush_samples(self) -> None:
        """Write the raw blocks held back (a crash loses at most `SAMPLE_FLUSH_S` of them)."""
        if not self._samples:
            return
        with self.transaction() as db:
            db.executemany("INSERT INTO samples (session_id, t, sps, values_g) VALUES (?,?,?,?)", self._samples)
        self._samples.clear()

    def inputs(self, session_id: str) -> list[Event]:
        rows = self.db.execute(
            "SELECT data FROM entries WHERE session_id = ? AND role = 'input' ORDER BY seq", (session_id,)
        ).fetchall()
        return [event_from_dict(json.loads(row[0])) for row in rows]

    def entries(self, session_id: str, role: str) -> list[tuple[float, str, dict[str, Any]]]:
        rows = self.db.execute(
            "SELECT t, kind, data FROM entries WHERE session_id = ? AND role = ? ORDER BY seq",
            (session_id, role),
        ).fetchall()
        return [(t, kind, json.loads(data)) for t, kind, data in rows]

    def last_state(self, session_id: str, kind: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM entries WHERE session_id = ? AND role = 'state' AND kind = ? ORDER BY seq DESC LIMIT 1",
            (session_id, kind),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def samples(self, session_id: str, t_from: float = 0.0, t_to: float = float("inf")) -> list[ScaleSampled]:
        self.flush_samples()
        rows = self.db.execute(
            "SELECT t, sps, values_g FROM samples WHERE session_id = ? AND t >= ? AND t <= ? ORDER BY rowid",
            (session_id, t_from, t_to),
        ).fetchall()
        return [ScaleSampled(t, sps, tuple(json.loads(v))) for t, sps, v in rows]

    # -- retention -----------------------------------------------------------------------------

    def prune(self, keep_samples: int, keep_sessions: int) -> tuple[int, int]:
        """Drop the raw samples of all but the latest `keep_samples` sessions, and everything of all but
        the latest `keep_sessions`. A session still open, abandoned, or whose report the store has not
        yet acknowledged, is kept whole. Returns (sessions whose samples went, sessions that went)."""
        self.flush_samples()
        newest_first = self.db.execute(
            "SELECT session_id, state = 'ended' AND session_id NOT IN"
            " (SELECT session_id FROM outbox WHERE acked_unix IS NULL),"
            " EXISTS (SELECT 1 FROM samples WHERE samples.session_id = sessions.session_id)"
            " FROM sessions ORDER BY rowid DESC"
        ).fetchall()
        # only sessions still holding samples are thinned: about one a close, not every one kept
        thin = [
            sid
            for i, (sid, done, sampled) in enumerate(newest_first)
            if done and sampled and keep_samples <= i < keep_sessions
        ]
        drop = [sid for i, (sid, done, _) in enumerate(newest_first) if done and i >= max(keep_sessions, keep_samples)]
        if not thin and not drop:
            return 0, 0
        with self.transaction() as db:
            for session_id in thin:
                db.execute("DELETE FROM samples WHERE session_id = ?", (session_id,))
            for session_id in drop:
                for table in ("samples", "entries", "outbox", "sessions"):
                    db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
        return len(thin), len(drop)

    # -- outbox delivery (firmware/sync) --------------------------------------------------------
    # Rows are found and acknowledged by row_id only, never by time: a Pi has no RTC and its
    # clock may jump at boot. A row whose next attempt lies absurdly far ahead (the clock jumped
    # back) counts as due.

    def outbox_due(self, now_unix: float, limit: int = 20, max_delay_s: float = 86400.0) -> list[OutboxRow]:
        rows = self.db.execute(
            "SELECT row_id, message_id, session_id, topic, payload, attempts FROM outbox"
            " WHERE acked_unix IS NULL AND (next_attempt_unix <= ? OR next_attempt_unix > ?)"
            " ORDER BY row_id LIMIT ?",
            (now_unix, now_unix + max_delay_s, limit),
        ).fetchall()
        return [OutboxRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]

    def outbox_attempted(self, row_id: int, next_attempt_unix: float, error: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_unix = ?, last_error = ?"
                " WHERE row_id = ? AND acked_unix IS NULL",
                (next_attempt_unix, error[:500], row_id),
            )

    def outbox_ack(self, row_id: int, response: dict[str, Any], acked_unix: float) -> bool:
        """True if this call acknowledged the row (False: unknown or already acknowledged)."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE outbox SET attempts = attempts + 1, acked_unix = ?, response = ?, last_error = NULL"
                " WHERE row_id = ? AND acked_unix IS NULL",
                (acked_unix, json.dumps(response, sort_keys=True), row_id),
            )
            return cursor.rowcount == 1

    def outbox_pending(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM outbox WHERE acked_unix IS NULL").fetchone()[0]

    def outbox_response(self, row_id: int) -> dict[str, Any] | None:
        row = self.db.execute("SELECT response FROM outbox WHERE row_id = ?", (row_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def outbox_next_due(self) -> float | None:
        row = self.db.execute("SELECT MIN(next_attempt_unix) FROM outbox WHERE acked_unix IS NULL").fetchone()
        return row[0]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    row_id: int
    message_id: str
    session_id: str
    topic: str
    payload: dict[str, Any]
    attempts: int
