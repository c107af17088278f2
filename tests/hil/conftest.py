"""Shared helpers for the HIL rig tests: the shipped scenarios, and a scale emulator streaming a
compiled scenario's own counts (a robot doing the physical steps exactly) for the serial rig and
the recorder."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.core.trace import read_trace
from firmware.scale.calibration import Calibration
from firmware.scale.emulator import Emulator, counts_from_trace

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tools" / "hil" / "scenarios"


def shipped() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


class StreamingScale:
    """The MCU emulator on a pty streaming a trace's counts (then holding the last reading)."""

    def __init__(self, trace_dir: Path, link: Path) -> None:
        counts, sps = counts_from_trace(trace_dir)
        counts += [counts[-1]] * int(30 * sps)
        header = read_trace(trace_dir).header
        self.calibration = Calibration(header.offset, header.counts_per_gram)
        self.link = link
        self.emulator = Emulator(link, counts, sps)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)

    def _pump(self) -> None:
        while not self._stop.is_set():
            self.emulator.step(0.05)

    def __enter__(self) -> StreamingScale:
        self.emulator.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.emulator.close()


@pytest.fixture
def streaming_scale() -> Iterator[type[StreamingScale]]:
    yield StreamingScale
