"""Child process for the crash test: replays a trace into a durable journal, slowly, printing the
cart's state after each event, until the parent kills it with SIGKILL."""

from __future__ import annotations

import json
import sys
import time

from firmware.core.catalog import load_catalog
from firmware.core.trace import read_trace
from firmware.journal import Journal
from firmware.pipeline import CartPipeline


def state(pipeline: CartPipeline) -> dict:
    report = pipeline.report()
    return {k: report[k] for k in ("items", "total_cents", "alerts")}


def main() -> None:
    journal_path, trace_path, pause_s = sys.argv[1], sys.argv[2], float(sys.argv[3])
    trace = read_trace(trace_path)
    pipeline = CartPipeline(load_catalog(trace.header.catalog_path), "crash-1", journal=Journal(journal_path))
    for index, event in enumerate(trace.events):
        pipeline.feed(event)
        print(json.dumps({"index": index, "state": state(pipeline)}), flush=True)
        time.sleep(pause_s)
    time.sleep(60)


if __name__ == "__main__":
    main()
