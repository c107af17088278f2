"""Frames in, scan events out: a `FrameSource` through the `FrameReader` and `ScanDebouncer`.

`CameraScanner.events()` passes camera faults and restorations through and turns frames into
`CodeRead(source="camera")` events; `scans_from_frame_events` does the same for a trace's
`frame` events on the trace's own clock (deterministic, for replays).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from firmware.camera.debounce import ScanDebouncer
from firmware.camera.frame_reader import FrameReader
from firmware.camera.reader import BarcodeReader
from firmware.camera.sources import Frame, FrameSource, TraceFrameSource
from firmware.core.events import CameraFaulted, CameraRestored, CodeRead, Event

CameraEvent = CodeRead | CameraFaulted | CameraRestored


@dataclass
class ScannerStats:
    frames: int = 0
    faults: int = 0
    frame_ms: list[float] = field(default_factory=list)


class CameraScanner:
    def __init__(
        self,
        is_known: Callable[[str], bool],
        reader: BarcodeReader | None = None,
        frame_reader: FrameReader | None = None,
        debouncer: ScanDebouncer | None = None,
    ) -> None:
        self.frame_reader = frame_reader or FrameReader(reader or BarcodeReader())
        self.debouncer = debouncer or ScanDebouncer(is_known)
        self.stats = ScannerStats()

    def handle_frame(self, frame: Frame) -> list[CodeRead]:
        start = time.perf_counter()
        candidates = self.frame_reader.process(frame.image)
        self.stats.frame_ms.append((time.perf_counter() - start) * 1000.0)
        self.stats.frames += 1
        return self.debouncer.update(frame.t, candidates)

    def events(self, source: FrameSource) -> Iterator[CameraEvent]:
        try:
            for item in source.items():
                if isinstance(item, Frame):
                    yield from self.handle_frame(item)
                else:
                    if isinstance(item, CameraFaulted):
                        self.stats.faults += 1
                    yield item
        finally:
            source.close()


def scans_from_frame_events(
    events: Iterable[Event], base_dir: Path | str, is_known: Callable[[str], bool]
) -> Iterator[CodeRead]:
    """The camera scans a trace's `frame` events give, timed by the frames' `t`."""
    scanner = CameraScanner(is_known)
    for event in scanner.events(TraceFrameSource(events, base_dir)):
        if isinstance(event, CodeRead):
            yield event
