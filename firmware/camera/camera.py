"""The live camera: V4L2 through OpenCV, supervised so that a camera that disappears (cable
pulled, driver reset) yields `CameraFaulted` and is reopened when it is back (`CameraRestored`).

The device sits behind `CaptureDevice`, the part of `cv2.VideoCapture` we use, so tests and the
emulator plug a fake device in at the same seam. Clock and sleep are injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from firmware.camera.sources import Frame, SourceItem
from firmware.core.events import CameraFaulted, CameraRestored


class CaptureDevice(Protocol):
    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


@dataclass(frozen=True, slots=True)
class CameraSettings:
    device: int | str = 0  # index or "/dev/videoN"
    width_px: int = 1280
    height_px: int = 720
    fps: float = 30.0
    exposure: float | None = None  # V4L2 exposure_absolute units (100 µs); None = auto
    fourcc: str = "MJPG"  # USB cameras need MJPG for 720p30


def open_v4l2(settings: CameraSettings) -> CaptureDevice:
    """Open a V4L2 camera with the given settings (OpenCV applies what the driver accepts)."""
    capture = cv2.VideoCapture(settings.device, cv2.CAP_V4L2)
    if capture.isOpened():
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*settings.fourcc))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, settings.width_px)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, settings.height_px)
        capture.set(cv2.CAP_PROP_FPS, settings.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a stale queue
        if settings.exposure is None:
            capture.set(cv2.CAP_PROP_AUTO_EXPOSURE, 3)  # V4L2 aperture-priority (auto)
        else:
            capture.set(cv2.CAP_PROP_AUTO_EXPOSURE, 1)  # V4L2 manual
            capture.set(cv2.CAP_PROP_EXPOSURE, settings.exposure)
    return capture


class SupervisedCamera:
    """A `FrameSource` over a device that may vanish; reopens it every `retry_s` seconds."""

    def __init__(
        self,
        opener: Callable[[], CaptureDevice],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry_s: float = 1.0,
        max_failed_reads: int = 5,
        name: str = "camera",
    ) -> None:
        self.opener, self.clock, self.sleep = opener, clock, sleep
        self.retry_s, self.max_failed_reads, self.name = retry_s, max_failed_reads, name
        self._device: CaptureDevice | None = None
        self._closed = False

    def _try_open(self) -> str | None:
        """Open the device; returns the reason it failed, or None when open."""
        try:
            device = self.opener()
        except Exception as exc:  # a driver or OS error: the camera is not there
            return f"{self.name} cannot be opened: {exc}"
        if not device.isOpened():
            device.release()
            return f"{self.name} cannot be opened"
        self._device = device
        return None

    def items(self) -> Iterator[SourceItem]:
        faulted = False
        failed_reads = 0
        index = 0
        while not self._closed:
            if self._device is None:
                reason = self._try_open()
                if reason is not None:
                    if not faulted:
                        faulted = True
                        yield CameraFaulted(self.clock(), reason)
                    self.sleep(self.retry_s)
                    continue
                failed_reads = 0
                if faulted:
                    faulted = False
                    yield CameraRestored(self.clock())
            try:
                ok, image = self._device.read()
            except Exception:  # the driver threw: same as a failed read
                ok, image = False, None
            if ok and image is not None:
                failed_reads = 0
                yield Frame(self.clock(), image, f"{self.name}#{index}")
                index += 1
                continue
            failed_reads += 1
            if failed_reads >= self.max_failed_reads:
                self._release()
                faulted = True
                yield CameraFaulted(self.clock(), f"{self.name} stopped delivering frames")

    def _release(self) -> None:
        if self._device is not None:
            self._device.release()
            self._device = None

    def close(self) -> None:
        self._closed = True
        self._release()


def v4l2_camera(settings: CameraSettings, **kwargs) -> SupervisedCamera:
    """The real camera: a supervised V4L2 device."""
    return SupervisedCamera(lambda: open_v4l2(settings), name=str(settings.device), **kwargs)
