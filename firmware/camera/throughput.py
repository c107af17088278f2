"""Keeping up with a live camera: a bounded frame queue that drops the oldest frame when the
reader falls behind, and a worker thread that reads frames from it.

The capture thread never waits on the reader and memory never grows: at most `maxsize` frames wait.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from firmware.camera.sources import Frame


class LatestFrameQueue:
    """Bounded FIFO of frames; `put` on a full queue drops the oldest frame and counts it."""

    def __init__(self, maxsize: int = 2) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self.maxsize = maxsize
        self.dropped = 0
        self.accepted = 0
        self._frames: deque[Frame] = deque()
        self._closed = False
        self._cond = threading.Condition()

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._closed:
                return
            if len(self._frames) >= self.maxsize:
                self._frames.popleft()
                self.dropped += 1
            self._frames.append(frame)
            self.accepted += 1
            self._cond.notify()

    def get(self, timeout_s: float | None = None) -> Frame | None:
        """The oldest waiting frame; None when closed and empty, or on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._frames or self._closed, timeout_s):
                return None
            return self._frames.popleft() if self._frames else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)


class ReaderWorker:
    """Runs `handle(frame)` for each frame taken from the queue, on its own thread."""

    def __init__(self, queue: LatestFrameQueue, handle: Callable[[Frame], None]) -> None:
        self.queue = queue
        self.handle = handle
        self.processed = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="barcode-reader", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            frame = self.queue.get()
            if frame is None:
                return
            try:
                self.handle(frame)
            except Exception as exc:  # kept for the owner to report; the worker stops
                self.error = exc
                return
            self.processed += 1

    def join(self, timeout_s: float | None = None) -> None:
        self._thread.join(timeout_s)
