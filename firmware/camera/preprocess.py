"""Image preparation for the decoders: grey conversion, scaling, sharpening, contrast and rotation.

Each step takes and returns an 8-bit greyscale array; a step returns None when it does not apply
(an upscale of an image that is already large), and the attempt using it is skipped.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_UPSCALED_SIDE_PX = 1400  # upscaling helps small, soft codes; past this it only costs time


def to_gray(image: np.ndarray) -> np.ndarray:
    """8-bit greyscale view of a BGR, BGRA or grey image; raises ValueError on anything else."""
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise ValueError("expected a non-empty image array")
    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image, got {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    raise ValueError(f"unsupported image shape {image.shape}")


def identity(gray: np.ndarray) -> np.ndarray:
    return gray


def upscale(factor: float):
    """Cubic upscale by `factor`, skipped for images whose long side would pass MAX_UPSCALED_SIDE_PX."""

    def step(gray: np.ndarray) -> np.ndarray | None:
        if max(gray.shape[:2]) * factor > MAX_UPSCALED_SIDE_PX or min(gray.shape[:2]) < 2:
            return None
        return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)

    return step


def sharpen(gray: np.ndarray, sigma_px: float = 2.0, amount: float = 0.8) -> np.ndarray:
    """Unsharp mask: restores edge contrast lost to focus blur."""
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma_px)
    return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0)


def clahe(gray: np.ndarray) -> np.ndarray:
    """Local contrast equalisation (CLAHE) for glare and uneven light."""
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def rotate(angle_deg: float):
    """Rotation by `angle_deg` onto a canvas large enough to keep the whole image."""

    def step(gray: np.ndarray) -> np.ndarray | None:
        h, w = gray.shape[:2]
        if min(h, w) < 8:
            return None
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
        cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
        new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
        matrix[0, 2] += new_w / 2 - w / 2
        matrix[1, 2] += new_h / 2 - h / 2
        return cv2.warpAffine(gray, matrix, (new_w, new_h), borderMode=cv2.BORDER_REPLICATE)

    return step


def fit_within(gray: np.ndarray, max_side_px: int) -> np.ndarray:
    """Downscale (area interpolation) so the long side is at most `max_side_px`."""
    long_side = max(gray.shape[:2])
    if long_side <= max_side_px:
        return gray
    factor = max_side_px / long_side
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
