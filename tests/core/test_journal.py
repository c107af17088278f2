from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.core.catalog import load_catalog
from firmware.core.trace import read_trace
from firmware.journal import Journal, JournalError
from firmware.pipeline import CartPipeline, recover
from tests.core.crash_child import state

REPO = Path(__file__).resolve().parents[2]


def reference_states(trace_dir: Path) -> list[dict]:
    trace = read_trace(trace_dir)
    pipeline = CartPipeline(load_catalog(trace.header.catalog_path), "ref")
    states = []
    for event in trace.events:
        pipeline.feed(event)
        states.append(state(pipeline))
    return states


def test_journal_is_wal_and_full_sync(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_mid_session_is_rebuilt_exactly(tmp_path: Path, example_trace: Path, seed: int) -> None:
    journal_path = tmp_path / "journal.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.core.crash_child", str(journal_path), str(example_trace), "0.01"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    kill_after = random.Random(seed).randint(8, 26)
    last = -1
    assert child.stdout is not None
    for line in child.stdout:
        last = json.loads(line)["index"]
        if last >= kill_after:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert last >= kill_after

    journal = Journal(journal_path)
    assert [s.session_id for s in journal.open_sessions()] == ["crash-1"]
    trace = read_trace(example_trace)
    rebuilt = recover(journal, "crash-1", load_catalog(trace.header.catalog_path))
    ref = reference_states(example_trace)
    # killed after the child printed state `last`, perhaps while it journaled the next event
    assert state(rebuilt) in (ref[last], ref[min(last + 1, len(ref) - 1)])
    journaled = [(kind, data) for _, kind, data in journal.entries("crash-1", "effect")]
    rederived = [(e.kind, json.loads(json.dumps(e.data))) for e in rebuilt.rebuilt_effects]
    assert journaled == rederived  # every decision the live cart made, made again the same way
    assert any(kind == "cart.item_added" for kind, _ in journaled)


def test_recovered_session_carries_on_to_the_same_bill(tmp_path: Path, example_trace: Path) -> None:
    trace = read_trace(example_trace)
    catalog = load_catalog(trace.header.catalog_path)
    journal = Journal(tmp_path / "j.db")
    first = CartPipeline(catalog, "s1", journal=journal)
    split = 14
    first.feed_all(trace.events[:split])
    journal.close()
    journal = Journal(tmp_path / "j.db")
    second = recover(journal, "s1", catalog)
    second.feed_all(trace.events[split:])
    report = second.close()
    expected = json.loads((example_trace / "expected-report.json").read_text())
    assert report["items"] == expected["items"]
    assert report["total_cents"] == expected["total_cents"]
    assert report["alerts"] == expected["alerts"]
    with pytest.raises(JournalError, match="already ended"):
        recover(journal, "s1", catalog)


def test_a_session_priced_with_another_catalog_is_not_rebuilt(tmp_path: Path, example_trace: Path) -> None:
    trace = read_trace(example_trace)
    catalog = load_catalog(trace.header.catalog_path)
    journal = Journal(tmp_path / "j.db")
    CartPipeline(catalog, "s1", journal=journal).feed_all(trace.events[:14])
    changed = tmp_path / "catalog.csv"
    changed.write_text(trace.header.catalog_path.read_text().replace(",129,", ",139,"))
    with pytest.raises(JournalError, match="cannot be rebuilt exactly"):
        recover(journal, "s1", load_catalog(changed))
    assert recover(journal, "s1", catalog).fusion.basket.total_cents() == 129 + 99  # the can and the gum
