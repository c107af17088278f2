"""The daemon prunes its journal after each session, as its config says."""

from __future__ import annotations

from pathlib import Path

from tests.daemon.cart_daemon import make_daemon, shop_gum


def test_each_session_closed_prunes_the_journal_to_the_configured_sessions(tmp_path: Path) -> None:
    d = make_daemon(tmp_path, keep_samples_sessions=1, keep_sessions=2)
    for _ in range(4):
        shop_gum(d)
    sessions = [row[0] for row in d.journal.db.execute("SELECT session_id FROM sessions ORDER BY rowid")]
    assert len(sessions) == 2  # no store here: nothing waits to be delivered
    with_samples = [row[0] for row in d.journal.db.execute("SELECT DISTINCT session_id FROM samples")]
    assert with_samples == sessions[-1:]
    d.journal.close()
    d.books.close()
