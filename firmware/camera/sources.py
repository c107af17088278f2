"""Where frames come from, behind one small interface: `FrameSource.items()` yields `Frame`s and,
for live cameras, `CameraFaulted` / `CameraRestored` events; `close()` releases the source.

Sources here: a folder of images, a video file, and a trace's `frame` events. The live V4L2
camera (which can fault and come back) is in `camera.py`. Times are seconds: from the frame's
position for files, from the trace for traces, from the injected clock for live cameras.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from firmware.core.events import CameraFaulted, CameraRestored, Event, FrameCaptured

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


class SourceError(RuntimeError):
    """A source that cannot deliver what it promised (missing file, unreadable image)."""


@dataclass(frozen=True, slots=True)
class Frame:
    t: float
    image: np.ndarray  # BGR or grey, 8-bit
    ref: str  # file path or capture id, for logs and journals


SourceItem = Frame | CameraFaulted | CameraRestored


class FrameSource(Protocol):
    def items(self) -> Iterator[SourceItem]: ...

    def close(self) -> None: ...


def load_image(path: Path) -> np.ndarray:
    """Read an image file (PNG, JPEG, WebP, ...); raises SourceError naming the file."""
    if not path.is_file():
        raise SourceError(f"image not found: {path}")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"not a readable image: {path}")
    return image


class ImageFolderSource:
    """Every image in a folder, in name order, as frames `1 / fps` seconds apart from `t0_s`."""

    def __init__(self, folder: Path | str, fps: float = 30.0, t0_s: float = 0.0) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"not a folder: {self.folder}")
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.fps, self.t0_s = fps, t0_s
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def items(self) -> Iterator[SourceItem]:
        for i, path in enumerate(self.paths):
            yield Frame(self.t0_s + i / self.fps, load_image(path), str(path))

    def close(self) -> None:
        pass


class VideoFileSource:
    """Frames of a video file (anything OpenCV's FFmpeg backend plays), timed by their position."""

    def __init__(self, path: Path | str, t0_s: float = 0.0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video not found: {self.path}")
        self.t0_s = t0_s
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise SourceError(f"cannot open video: {self.path}")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and fps > 0 else 30.0

    def items(self) -> Iterator[SourceItem]:
        index = 0
        while True:
            ok, image = self._capture.read()
            if not ok or image is None:
                return
            yield Frame(self.t0_s + index / self.fps, image, f"{self.path}#{index}")
            index += 1

    def close(self) -> None:
        self._capture.release()


class TraceFrameSource:
    """The `frame` events of a trace (cart-trace-v1): images relative to the trace's folder.

    Other events are skipped; a frame whose image is missing or unreadable raises SourceError.
    """

    def __init__(self, events: Iterable[Event], base_dir: Path | str) -> None:
        self.events = events
        self.base_dir = Path(base_dir)

    def items(self) -> Iterator[SourceItem]:
        for event in self.events:
            if isinstance(event, FrameCaptured):
                path = Path(event.image)
                if not path.is_absolute():
                    path = self.base_dir / path
                yield Frame(event.t, load_image(path), event.image)

    def close(self) -> None:
        pass
