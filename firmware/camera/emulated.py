"""An emulated capture device: plays a list of images like `cv2.VideoCapture` plays a camera,
and can be unplugged and plugged back in, for tests, the HIL rig and bench runs without a camera.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class EmulatedCamera:
    """The physical camera: `plugged` says whether it is there; `open()` gives a capture device."""

    def __init__(self, images: Sequence[np.ndarray], loop: bool = True) -> None:
        if not images:
            raise ValueError("an emulated camera needs at least one image")
        self.images = list(images)
        self.loop = loop
        self.plugged = True
        self.position = 0
        self.opens = 0

    def open(self) -> EmulatedCapture:
        self.opens += 1
        return EmulatedCapture(self)


class EmulatedCapture:
    """One open handle on the emulated camera; reads fail once the camera is unplugged."""

    def __init__(self, camera: EmulatedCamera) -> None:
        self.camera = camera
        self._open = camera.plugged

    def isOpened(self) -> bool:
        return self._open

    def read(self) -> tuple[bool, np.ndarray | None]:
        cam = self.camera
        if not self._open or not cam.plugged:
            return False, None
        if cam.position >= len(cam.images):
            if not cam.loop:
                return False, None
            cam.position = 0
        image = cam.images[cam.position]
        cam.position += 1
        return True, image.copy()

    def release(self) -> None:
        self._open = False
