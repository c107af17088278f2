"""Synthetic camera pictures for the emulated cart: a product's barcode held up in front of the
camera, on a plain background. Barcodes are drawn by python-barcode (EAN-13, EAN-8, UPC-A)."""

from __future__ import annotations

import io
from functools import lru_cache

import cv2
import numpy as np

SYMBOLOGY_BY_LENGTH = {13: "ean13", 8: "ean8", 12: "upca"}


@lru_cache(maxsize=256)
def barcode_image(code: str) -> np.ndarray:
    """A grey image of the printed barcode for `code` (with its digits)."""
    import barcode
    from barcode.writer import ImageWriter

    name = SYMBOLOGY_BY_LENGTH.get(len(code))
    if name is None:
        raise ValueError(f"cannot draw a barcode for {code!r} (EAN-13, EAN-8 or UPC-A)")
    symbol = barcode.get(name, code[:-1], writer=ImageWriter())  # it adds the check digit itself
    buffer = io.BytesIO()
    symbol.write(buffer, options={"module_width": 0.3, "module_height": 12.0, "quiet_zone": 4.0, "dpi": 200})
    data = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"python-barcode gave no image for {code!r}")
    return image


def blank_frame(width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    """The basket seen from the camera: a mottled grey background."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(110, 12, (height // 8, width // 8)).astype(np.float32)
    return np.clip(cv2.resize(noise, (width, height), interpolation=cv2.INTER_LINEAR), 0, 255).astype(np.uint8)


def frame_with_code(code: str, width: int = 640, height: int = 480, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """A frame with the code's barcode held up near the middle (shifted by `offset` pixels)."""
    frame = blank_frame(width, height).copy()
    tag = barcode_image(code)
    scale = min(1.0, 0.8 * width / tag.shape[1], 0.6 * height / tag.shape[0])
    if scale < 1.0:
        tag = cv2.resize(tag, (int(tag.shape[1] * scale), int(tag.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    y = max(0, min(height - tag.shape[0], (height - tag.shape[0]) // 2 + offset[1]))
    x = max(0, min(width - tag.shape[1], (width - tag.shape[1]) // 2 + offset[0]))
    frame[y : y + tag.shape[0], x : x + tag.shape[1]] = tag
    return frame
