"""Frame timings for the benchmark: when the first frame was shown, and when each new total reached the screen.

Prints one line per fact on stdout, with `time.monotonic()` (system-wide on Linux, so another process
can subtract its own readings):

    frame first t=<monotonic> since_process_start_s=<s>
    frame total text=<shown total> set=<monotonic when the label changed> t=<monotonic of the frame>
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class FrameLog:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._first = True
        self._shown_total = ""
        self._pending_total: tuple[str, float] | None = None

    def attach(self) -> None:
        from kivy.core.window import Window

        Window.bind(on_flip=self._on_flip)
        self.app.bind(on_start=self._watch_total)

    def _watch_total(self, *_args: object) -> None:
        label = self.app.root.ids.screens.get_screen("basket").ids.total
        label.bind(text=self._on_total)
        self._on_total(label, label.text)

    def _on_total(self, _label: object, text: str) -> None:
        if text != self._shown_total:
            self._pending_total = (text, time.monotonic())

    def _on_flip(self, *_args: object) -> None:
        now = time.monotonic()
        if self._first:
            self._first = False
            age_s = process_age_s()
            _say(f"frame first t={now:.6f} since_process_start_s={-1.0 if age_s is None else age_s:.3f}")
        if self._pending_total is not None:
            (self._shown_total, set_at), self._pending_total = self._pending_total, None
            _say(f"frame total text={self._shown_total} set={set_at:.6f} t={now:.6f}")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc; 10 ms resolution), None elsewhere."""
    try:
        with open("/proc/self/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        start_s = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_s
    except (OSError, ValueError, IndexError, AttributeError):
        return None
