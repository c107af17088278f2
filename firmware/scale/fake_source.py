"""An in-process fake scale source for daemon, UI and pipeline tests: scripted grams on the injected
clock, no serial port, no MCU. It answers poll() with the same events SerialScaleSource gives.

    source = FakeScaleSource(lambda t: 0.0 if t < 5 else 612.0, clock=sim.now)
    source.fail("link lost"); source.restore()
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from firmware.core.events import Event, ScaleFaulted, ScaleRestored, ScaleSampled


class FakeScaleSource:
    def __init__(
        self,
        grams_at: Callable[[float], float],
        clock: Callable[[], float] = time.monotonic,
        *,
        sps: float = 80.0,
        batch: int = 8,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if sps <= 0 or batch < 1:
            raise ValueError("sps must be positive and batch at least 1")
        self.grams_at = grams_at
        self.clock = clock
        self.sps = sps
        self.batch = batch
        self._sleep = sleep
        self._t0 = clock()
        self._next_index = 0
        self.faulted = False
        self.samples = 0
        self.faults = 0
        self._events: list[Event] = []

    def fail(self, reason: str = "fake scale fault") -> None:
        if not self.faulted:
            self.faulted = True
            self.faults += 1
            self._events.append(ScaleFaulted(self.clock(), reason))

    def restore(self) -> None:
        if self.faulted:
            self.faulted = False
            self._events.append(ScaleRestored(self.clock()))
            self._t0 = self.clock()  # samples missed while faulted are lost, as on the real link
            self._next_index = 0

    def poll(self, timeout_s: float = 0.1) -> list[Event]:
        now = self.clock()
        if not self.faulted:
            due = math.floor((now - self._t0) * self.sps + 1e-9) + 1
            while due - self._next_index >= self.batch:
                start = self._next_index
                t = self._t0 + start / self.sps
                values = tuple(self.grams_at(t + i / self.sps) for i in range(self.batch))
                self._events.append(ScaleSampled(t, self.sps, values))
                self._next_index += self.batch
                self.samples += self.batch
        events, self._events = self._events, []
        if not events and self._sleep is not None:
            self._sleep(timeout_s)
        return events

    def stats(self) -> dict[str, int]:
        return {"samples": self.samples, "gaps": 0, "crc_errors": 0, "reconnects": 0, "faults": self.faults}

    def close(self) -> None:
        pass
