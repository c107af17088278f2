"""Benchmark the journal on the cart's disk: fsync'd commits and bytes per minute of shopping, and the
file's size over many sessions with the daemon's retention (`Journal.prune`).

    .venv/bin/python -m tools.bench_journal [--sessions 60] [--keep-samples 10] [--keep-sessions 30]

Replays the demo session through the real pipeline into a journal file in a temp folder, its samples
cut into the 0.1 s blocks the MCU link delivers, pruning after each session as cartd does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from firmware.core.catalog import load_catalog
from firmware.core.events import Event, ScaleSampled
from firmware.core.trace import read_trace
from firmware.journal import Journal
from firmware.pipeline import CartPipeline

DEMO = Path(__file__).resolve().parents[1] / "firmware/demo/session"


class CountingJournal(Journal):
    """Counts which of its commits (`Journal.commits`) wrote raw samples."""

    sample_commits = 0

    def flush_samples(self) -> None:
        if self._samples:
            self.sample_commits += 1
        super().flush_samples()


def link_blocks(events: list[Event], seconds: float = 0.1) -> list[Event]:
    """The trace's scale blocks as the serial link delivers them (`firmware/scale/source.py`)."""
    out: list[Event] = []
    for event in events:
        if not isinstance(event, ScaleSampled):
            out.append(event)
            continue
        size = max(1, round(event.sps * seconds))
        for i in range(0, len(event.values_g), size):
            out.append(ScaleSampled(event.t + i / event.sps, event.sps, event.values_g[i : i + size]))
    return out


def file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--keep-samples", type=int, default=10, help="sessions keeping their raw samples")
    parser.add_argument("--keep-sessions", type=int, default=30, help="sessions kept in the journal")
    args = parser.parse_args(argv)
    trace = read_trace(DEMO)
    catalog = load_catalog(trace.header.catalog_path)
    events = link_blocks(trace.events)
    minutes = events[-1].t / 60.0
    blocks = sum(isinstance(e, ScaleSampled) for e in events)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "journal.db"
        journal = CountingJournal(path)
        replay_s, prune_ms, sizes = [], [], []
        for n in range(args.sessions):
            commits_before, samples_before = journal.commits, journal.sample_commits
            started = time.perf_counter()
            pipeline = CartPipeline(catalog, f"bench-{n}", journal=journal)
            pipeline.feed_all(events)
            pipeline.close()
            replay_s.append(time.perf_counter() - started)
            commits, sample_commits = journal.commits - commits_before, journal.sample_commits - samples_before
            if n == 0:
                journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                one_session = file_bytes(path)
            started = time.perf_counter()
            journal.prune(args.keep_samples, args.keep_sessions)
            prune_ms.append(1000.0 * (time.perf_counter() - started))
            journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes.append(file_bytes(path))
        journal.close()

    print(f"journal: the demo session, {minutes:.1f} min of shopping, {blocks} scale blocks, x {args.sessions}")
    print(
        f"  fsync'd commits: {commits / minutes:.0f} a minute of shopping "
        f"(before, a commit a scale block: {(commits - sample_commits + blocks) / minutes:.0f} a minute)"
    )
    print(
        f"  disk: {one_session / 1e6 / minutes:.2f} MB a minute of shopping; replay {statistics.median(replay_s):.2f} s"
    )
    print(
        f"  with retention ({args.keep_samples} sessions keep samples, {args.keep_sessions} kept): "
        f"file {sizes[args.keep_sessions - 1] / 1e6:.1f} MB after {args.keep_sessions} sessions, "
        f"{max(sizes) / 1e6:.1f} MB at most over {args.sessions}; prune p50 {statistics.median(prune_ms):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
