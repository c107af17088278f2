"""Fixtures for the technician tools: the real MCU firmware on the MicroPython unix port behind a pty
(firmware/scale/emulator.py), run in a thread and fed scripted counts, and the in-process fake MCU."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware.scale.emulator import Emulator, EmulatorError, micropython_binary

SPS = 80
OFFSET = 8000.0
COUNTS_PER_GRAM = 42.5


def scripted_counts(
    phases: list[tuple[float, float]], noise_g: float = 0.3, seed: int = 3, ring_g: float = 30.0
) -> list[int]:
    """Counts for (seconds, grams) phases: each step in load settles in about 0.2 s and rings."""
    rng = random.Random(seed)
    out: list[int] = []
    level = 0.0
    for seconds, grams in phases:
        start = level
        for i in range(int(seconds * SPS)):
            settle = 1 - math.exp(-i / (0.2 * SPS))
            ring = ring_g * math.exp(-i / (0.3 * SPS)) * math.sin(2 * math.pi * 4 * i / SPS) if grams != start else 0
            g = start + (grams - start) * settle + ring + rng.gauss(0, noise_g)
            out.append(round(OFFSET + COUNTS_PER_GRAM * g))
        level = grams
    return out


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """start(counts, firmware_dir=None) -> the pty path of a running emulator."""
    try:
        micropython_binary()
    except EmulatorError as exc:
        pytest.skip(str(exc))
    running: list[tuple[Emulator, threading.Event, threading.Thread]] = []

    def start(counts: list[int], firmware_dir: Path | None = None) -> Path:
        link = tmp_path / f"ttyEMU{len(running)}"
        emu = Emulator(link, counts, float(SPS), firmware_dir=firmware_dir)
        emu.start()
        stop = threading.Event()

        def loop() -> None:
            while not stop.is_set():
                emu.step(0.02)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        running.append((emu, stop, thread))
        return link

    yield start
    for emu, stop, thread in running:
        stop.set()
        thread.join(timeout=5)
        emu.close()
