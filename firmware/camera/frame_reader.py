"""Reading barcodes in live camera frames (1280x720 at 30 fps) within a per-frame budget.

The per-image cascade (`BarcodeReader.read`) costs too much to run whole on every large frame, and
most frames show no code at all. Per frame this stage:

1. runs the cascade's first attempt (zxing-cpp) for 1D codes on the whole frame, and every
   `full_2d_every` frames a quick zxing-cpp pass for GS1 DataMatrix / QR (no downscaled or
   inverted passes: 2D at full frame otherwise costs more than everything else together);
2. where step 1 located a 1D code, runs the next attempts of the cascade on a crop around it
   (at most `max_confirm_attempts`) until one of them reads the same code: the second opinion
   the debouncer needs;
3. otherwise finds regions of interest: areas with strong one-directional gradients (bars) at
   quarter resolution, ranked up where the image changed since the last frame (an item moving
   in), and on up to `max_rois` of them runs `attempts_per_frame` further attempts of the same
   cascade, taking the next ones in turn on every frame, so an item held in view meets the
   whole cascade within a few frames.

All reads of a frame are pooled into vote-counted candidates for the `ScanDebouncer`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from firmware.camera import preprocess
from firmware.camera.decoders import Decoded, ZxingDecoder
from firmware.camera.reader import BarcodeReader, Candidate, Tally, is_2d

ROI_SCALE = 4  # regions are found on a frame shrunk this many times
MOTION_THRESHOLD = 18  # grey levels of change that count as motion
MIN_BAR_ENERGY = 70  # |d/dx| - |d/dy| (blurred) that bars reach and textured clutter does not
MAX_ROI_FRACTION = 0.8  # a "region" this large is clutter, not a code


@dataclass(frozen=True, slots=True)
class Roi:
    x: int
    y: int
    w: int
    h: int
    score: float


def find_rois(gray: np.ndarray, previous: np.ndarray | None, max_rois: int = 2) -> list[Roi]:
    """Barcode-like regions in full-resolution coordinates, best first."""
    h, w = gray.shape[:2]
    small = cv2.resize(gray, (max(1, w // ROI_SCALE), max(1, h // ROI_SCALE)), interpolation=cv2.INTER_AREA)
    gx = cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_16S, 0, 1, ksize=3)
    energy = cv2.absdiff(cv2.convertScaleAbs(gx), cv2.convertScaleAbs(gy))
    energy = cv2.blur(energy, (5, 5))
    otsu, _ = cv2.threshold(energy, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, mask = cv2.threshold(energy, max(otsu, MIN_BAR_ENERGY), 255, cv2.THRESH_BINARY)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    mask = cv2.erode(mask, None, iterations=1)
    mask = cv2.dilate(mask, None, iterations=2)
    motion = None
    if previous is not None and previous.shape == small.shape:
        motion = (cv2.absdiff(small, previous) > MOTION_THRESHOLD).astype(np.float32)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rois: list[Roi] = []
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        if bw * bh < 80 or min(bw, bh) < 5 or bw * bh > MAX_ROI_FRACTION * small.size:
            continue
        strength = float(energy[y : y + bh, x : x + bw].mean())
        moving = float(motion[y : y + bh, x : x + bw].mean()) if motion is not None else 0.0
        score = strength * (bw * bh) ** 0.5 * (1.0 + 2.0 * moving)
        pad_x, pad_y = bw // 3 + 4, bh // 3 + 4
        x0, y0 = max(0, x - pad_x), max(0, y - pad_y)
        x1, y1 = min(small.shape[1], x + bw + pad_x), min(small.shape[0], y + bh + pad_y)
        rois.append(Roi(x0 * ROI_SCALE, y0 * ROI_SCALE, (x1 - x0) * ROI_SCALE, (y1 - y0) * ROI_SCALE, score))
    rois.sort(key=lambda r: -r.score)
    return rois[:max_rois]


def located_roi(box: tuple[int, int, int, int], width: int, height: int) -> Roi:
    """A decoder's code position grown into a crop with quiet zone and bar height to spare."""
    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 8), max(y1 - y0, 8)
    side = max(bw, bh)
    x0, x1 = max(0, x0 - side // 3), min(width, x1 + side // 3)
    y0, y1 = max(0, y0 - side // 3), min(height, y1 + side // 3)
    return Roi(x0, y0, x1 - x0, y1 - y0, float("inf"))


class FrameReader:
    """Stateful per-stream reader: remembers the last frame (motion) and its place in the cascade."""

    def __init__(
        self,
        reader: BarcodeReader,
        max_rois: int = 2,
        attempts_per_frame: int = 1,
        full_2d_every: int = 3,
        roi_max_side_px: int = 640,
        max_confirm_attempts: int = 2,
    ) -> None:
        if not reader.cascade:
            raise ValueError("the reader has no usable attempt")
        if max_rois < 0 or attempts_per_frame < 0 or full_2d_every < 1:
            raise ValueError("max_rois and attempts_per_frame must be >= 0, full_2d_every >= 1")
        self.reader = reader
        self.max_rois = max_rois
        self.attempts_per_frame = attempts_per_frame
        self.full_2d_every = full_2d_every
        self.roi_max_side_px = roi_max_side_px
        self.max_confirm_attempts = max_confirm_attempts
        self._first = replace(reader.cascade[0], with_2d=False)
        self._decoder_2d = ZxingDecoder(only_2d=True, thorough=False)
        self._previous_small: np.ndarray | None = None
        self._next_attempt = 0
        self._next_confirm = 0
        self._frame_index = 0

    def process(self, image: np.ndarray) -> tuple[Candidate, ...]:
        gray = preprocess.to_gray(image)
        tally = Tally()
        if self._frame_index % self.full_2d_every == 0:
            tally.add(self._decoder_2d.decode(gray), "zxing-2d")
        self._frame_index += 1
        first_reads = self.reader.run_attempt(gray, self._first)
        tally.add(first_reads, self._first.name)
        h, w = gray.shape[:2]
        located = [d for d in first_reads if d.box is not None and not is_2d(d)][: self.max_rois]
        for decoded in located:
            self._confirm_located(gray, decoded, located_roi(decoded.box, w, h), tally)
        rois = find_rois(gray, self._previous_small, self.max_rois) if not located else []
        self._previous_small = cv2.resize(
            gray, (max(1, w // ROI_SCALE), max(1, h // ROI_SCALE)), interpolation=cv2.INTER_AREA
        )
        fallbacks = self.reader.cascade[1:]
        if fallbacks and rois:
            chosen = [fallbacks[(self._next_attempt + i) % len(fallbacks)] for i in range(self.attempts_per_frame)]
            self._next_attempt = (self._next_attempt + self.attempts_per_frame) % len(fallbacks)
            crops = [preprocess.fit_within(gray[r.y : r.y + r.h, r.x : r.x + r.w], self.roi_max_side_px) for r in rois]
            for attempt in chosen:  # one vote per attempt, however many regions read the code
                tally.add([d for crop in crops for d in self.reader.run_attempt(crop, attempt)], attempt.name)
        return tally.candidates()

    def _confirm_located(self, gray: np.ndarray, decoded: Decoded, roi: Roi, tally: Tally) -> None:
        """Run further attempts on a located code's crop until another decoder reads it too.

        The attempts start where the last frame's left off, so a held item meets them all.
        """
        crop = preprocess.fit_within(gray[roi.y : roi.y + roi.h, roi.x : roi.x + roi.w], self.roi_max_side_px)
        fallbacks = self.reader.cascade[1:]
        runs = 0
        while runs < min(self.max_confirm_attempts, len(fallbacks)):
            attempt = fallbacks[(self._next_confirm + runs) % len(fallbacks)]
            reads = self.reader.run_attempt(crop, attempt)
            runs += 1
            tally.add(reads, attempt.name)
            if attempt.decoder != decoded.decoder and any(d.key == decoded.key for d in reads):
                break  # a second decoder agrees: confirmed
        if fallbacks:
            self._next_confirm = (self._next_confirm + runs) % len(fallbacks)
