"""The journal on an SD card: raw samples written a second at a time, and old sessions pruned once
the store has them (never an open, abandoned or undelivered one)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from firmware.core.events import ScaleSampled
from firmware.journal import SAMPLE_FLUSH_S, Journal


def blocks_on_disk(path: Path, session_id: str | None = None) -> int:
    with sqlite3.connect(path) as db:
        if session_id is None:
            return db.execute("SELECT count(*) FROM samples").fetchone()[0]
        return db.execute("SELECT count(*) FROM samples WHERE session_id = ?", (session_id,)).fetchone()[0]


def record(journal: Journal, session_id: str, first: int, blocks: int) -> None:
    """The scale link's 0.1 s blocks, numbered from `first`."""
    for i in range(first, first + blocks):
        journal.record_samples(session_id, ScaleSampled(i / 10, 80.0, (1.0,) * 8))


def test_raw_samples_are_written_a_second_at_a_time_and_before_anyone_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = Journal(path)
    journal.open_session("s1", "cart-1", None, None)
    record(journal, "s1", 0, 5)
    assert blocks_on_disk(path) == 0  # held back: evidence, not needed to rebuild the session
    record(journal, "s1", 5, 20)
    assert blocks_on_disk(path) >= 25 - SAMPLE_FLUSH_S * 10  # a crash loses at most a second
    assert len(journal.samples("s1")) == 25  # a reader sees every block
    record(journal, "s1", 25, 3)
    journal.close_session("s1", {"total_cents": 0})
    assert blocks_on_disk(path) == 28
    journal.open_session("s2", "cart-1", None, None)
    record(journal, "s2", 0, 2)
    journal.close()
    assert blocks_on_disk(path, "s2") == 2


def ended_session(journal: Journal, session_id: str, *, delivered: bool | None) -> None:
    """A finished session with a second of samples; its report delivered, queued, or (None) no store."""
    journal.open_session(session_id, "cart-1", None, None)
    record(journal, session_id, 0, 10)
    journal.record_state(session_id, 1.0, "weighing", {})
    outbox = None if delivered is None else {"message_id": f"m-{session_id}", "topic": "session", "payload": {}}
    journal.close_session(session_id, {"total_cents": 0}, outbox)
    if delivered:
        row = next(r for r in journal.outbox_due(now_unix=1e12, limit=100) if r.session_id == session_id)
        assert journal.outbox_ack(row.row_id, {"ok": True}, 1.0)


def test_old_sessions_lose_their_samples_then_go_but_nothing_undelivered_or_open(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    ended_session(journal, "undelivered", delivered=False)
    ended_session(journal, "abandoned", delivered=None)
    journal.abandon_session("abandoned", "priced with another catalog")
    journal.open_session("open", "cart-1", None, None)  # e.g. left open by a crash, never carried on
    record(journal, "open", 0, 10)
    for n in range(6):
        ended_session(journal, f"s{n}", delivered=n != 3 or None)  # s3: no store configured
    # newest first: s5 s4 | s3 s2 (samples go) | s1 s0 (go) and the three kept whole whatever their age
    assert journal.prune(keep_samples=2, keep_sessions=4) == (2, 2)
    kept = {row[0] for row in journal.db.execute("SELECT session_id FROM sessions")}
    assert kept == {"undelivered", "abandoned", "open", "s2", "s3", "s4", "s5"}
    with_samples = {row[0] for row in journal.db.execute("SELECT DISTINCT session_id FROM samples")}
    assert with_samples == {"undelivered", "abandoned", "open", "s4", "s5"}
    assert journal.db.execute("SELECT count(*) FROM entries WHERE session_id IN ('s0','s1')").fetchone() == (0,)
    assert journal.outbox_pending() == 1  # the undelivered report is still there to send
    commits = journal.commits
    assert journal.prune(keep_samples=2, keep_sessions=4) == (0, 0)  # nothing more to do ...
    assert journal.commits == commits  # ... and no write to the card for it
    journal.close()
