"""Live view of a scale source for technicians and rigs (`cartctl scale monitor`): once a second the
mean grams over the last second and the link figures, as a text line or one JSON object, and a last
report when it stops."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from firmware.core.events import ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale.source import ScaleSource


class Monitor:
    def __init__(self, source: ScaleSource, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.clock = clock
        self.start = clock()
        self.window: deque[tuple[float, float]] = deque()  # (arrival time, grams) over the last second
        self.fault: str | None = None
        self.faults = 0

    def feed(self, timeout_s: float) -> None:
        events = self.source.poll(timeout_s)
        now = self.clock()
        for event in events:
            if isinstance(event, ScaleSampled):
                self.window.extend((now, g) for g in event.values_g)
            elif isinstance(event, ScaleFaulted):
                self.fault = event.reason
                self.faults += 1
            elif isinstance(event, ScaleRestored):
                self.fault = None
        while self.window and self.window[0][0] < now - 1.0:
            self.window.popleft()

    def report(self, final: bool = False) -> dict[str, Any]:
        stats = self.source.stats()
        grams = sum(g for _, g in self.window) / len(self.window) if self.window else None
        return {
            "t": round(self.clock() - self.start, 3),
            "samples": stats.get("samples", 0),
            "gaps": stats.get("gaps", 0),
            "crc_errors": stats.get("crc_errors", 0),
            "reconnects": stats.get("reconnects", 0),
            "grams": None if grams is None else round(grams, 2),
            "faults": self.faults,
            "fault": self.fault,
            "final": final,
        }


def format_line(report: dict[str, Any]) -> str:
    grams = "     --   " if report["grams"] is None else f"{report['grams']:9.1f} g"
    line = (
        f"{report['t']:7.1f} s {grams}  samples {report['samples']:7d}  gaps {report['gaps']:4d}  "
        f"crc {report['crc_errors']:4d}  reconnects {report['reconnects']:3d}"
    )
    if report["fault"]:
        line += f"  FAULT: {report['fault']}"
    return line


def run_monitor(
    source: ScaleSource,
    seconds: float | None,
    emit: Callable[[str], None],
    as_json: bool,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Polls `source` for `seconds` (None: until interrupted), emitting a report every second and a
    final one. Returns the final report."""
    monitor = Monitor(source, clock)
    next_report = monitor.start + 1.0
    end = None if seconds is None else monitor.start + seconds

    def out(report: dict[str, Any]) -> None:
        emit(json.dumps(report) if as_json else format_line(report))

    try:
        while end is None or clock() < end:
            monitor.feed(0.05)
            if clock() >= next_report:
                out(monitor.report())
                next_report += 1.0
    except KeyboardInterrupt:
        pass
    final = monitor.report(final=True)
    out(final)
    return final
