"""The camera path for trace replay: `frame_reader_for(catalog)` gives the cart pipeline a
callable that turns each `FrameCaptured` event into the events the camera would have produced
(`CodeRead(source="camera")` scans, and `CameraFaulted` / `CameraRestored` when a frame's image
cannot be read), on the trace's own clock. `cartctl replay` finds it by this name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from firmware.camera.pipeline import CameraScanner
from firmware.camera.reader import BarcodeReader
from firmware.camera.sources import Frame, SourceError, load_image
from firmware.core.events import CameraFaulted, CameraRestored, Event, FrameCaptured


class KnowsCodes(Protocol):
    def knows(self, text: str, symbology: str | None = None) -> bool: ...


class TraceFrameScanner:
    """Stateful per session: one debouncer across the session's frames."""

    def __init__(self, is_known: Callable[[str], bool], reader: BarcodeReader | None = None) -> None:
        self.scanner = CameraScanner(is_known, reader=reader)
        self.faulted = False

    def __call__(self, event: FrameCaptured) -> list[Event]:
        try:
            image = load_image(Path(event.image))
        except SourceError as exc:
            if self.faulted:
                return []
            self.faulted = True
            return [CameraFaulted(event.t, str(exc))]
        out: list[Event] = []
        if self.faulted:
            self.faulted = False
            out.append(CameraRestored(event.t))
        out.extend(self.scanner.handle_frame(Frame(event.t, image, event.image)))
        return out


def frame_reader_for(catalog: KnowsCodes) -> Callable[[FrameCaptured], list[Event]]:
    return TraceFrameScanner(lambda text: catalog.knows(text))
