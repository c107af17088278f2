"""The per-image barcode read: a cascade of (preprocessing, decoder) attempts with a vote.

Measured on the real photos in `../shared/data/barcodes` (see `tools/bench_decode.py`): zxing-cpp
and ZBar each miss codes the other reads, and preprocessing (upscaling, small rotations) recovers
more; but every extra attempt is another chance of a misread. So a code is only returned when two
attempts agree on it (`votes_needed`), and attempts stop as soon as one code has the votes. A lone
read that nothing confirms is kept as a *candidate*: the frame path may still confirm it across
frames, but `read()` does not return it as the image's code. GS1 DataMatrix / QR reads are the
exception: their Reed-Solomon error correction makes one read as good as two agreeing 1D reads.

`cartctl decode` and the camera pipeline use this same cascade (`DEFAULT_CASCADE`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from firmware.camera import preprocess
from firmware.camera.decoders import Decoded, Decoder, ZbarDecoder, ZxingDecoder

Prep = Callable[[np.ndarray], np.ndarray | None]


@dataclass(frozen=True, slots=True)
class Attempt:
    name: str
    decoder: str  # "zxing" | "zbar"
    prep: Prep = preprocess.identity
    with_2d: bool = False  # also look for GS1 DataMatrix / QR (costs time on large images)


# Order chosen by measurement: cheapest and most productive first; each pair of zxing/zbar
# attempts gives the vote a second, independent opinion.
DEFAULT_CASCADE: tuple[Attempt, ...] = (
    Attempt("zxing", "zxing", with_2d=True),
    Attempt("zbar", "zbar", with_2d=True),
    Attempt("zxing-x1.5", "zxing", preprocess.upscale(1.5)),
    Attempt("zbar-x2", "zbar", preprocess.upscale(2.0)),
    Attempt("zxing-rot+15", "zxing", preprocess.rotate(15)),
    Attempt("zxing-rot-15", "zxing", preprocess.rotate(-15)),
    Attempt("zxing-rot+45", "zxing", preprocess.rotate(45)),
    Attempt("zxing-rot-45", "zxing", preprocess.rotate(-45)),
    Attempt("zbar-rot+15", "zbar", preprocess.rotate(15)),
    Attempt("zbar-rot-15", "zbar", preprocess.rotate(-15)),
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A code some attempts read in one image, with how many attempts and which decoders."""

    decoded: Decoded
    votes: int
    decoders: tuple[str, ...]
    attempts: tuple[str, ...]  # names of the attempts that read it


@dataclass(frozen=True, slots=True)
class ImageRead:
    """What one image read as: `code` only when confirmed; every candidate seen, best first."""

    code: str | None
    symbology: str | None
    key: str | None
    candidates: tuple[Candidate, ...]
    attempts_run: int
    ms: float


def is_2d(decoded: Decoded) -> bool:
    """A 2D symbol (error-corrected): one read is enough."""
    return decoded.symbology.startswith("gs1-")


@dataclass
class Tally:
    """Votes per code (GTIN-14 key) over the attempts run on one image or frame."""

    decoded: dict[str, Decoded] = field(default_factory=dict)
    votes: dict[str, int] = field(default_factory=dict)
    decoders: dict[str, set[str]] = field(default_factory=dict)
    attempts: dict[str, list[str]] = field(default_factory=dict)

    def add(self, reads: Sequence[Decoded], attempt: str) -> None:
        """One attempt's reads: one vote per code, even if the attempt read it twice."""
        for key in dict.fromkeys(d.key for d in reads):
            first = next(d for d in reads if d.key == key)
            self.decoded.setdefault(key, first)
            self.votes[key] = self.votes.get(key, 0) + 1
            self.decoders.setdefault(key, set()).add(first.decoder)
            self.attempts.setdefault(key, []).append(attempt)

    def candidates(self) -> tuple[Candidate, ...]:
        ranked = sorted(self.votes, key=lambda k: (-self.votes[k], k))
        return tuple(
            Candidate(self.decoded[k], self.votes[k], tuple(sorted(self.decoders[k])), tuple(self.attempts[k]))
            for k in ranked
        )


class BarcodeReader:
    """Runs the attempt cascade on an image. Decoders missing on this machine are skipped."""

    def __init__(
        self,
        cascade: Sequence[Attempt] = DEFAULT_CASCADE,
        decoders: dict[str, Decoder] | None = None,
        votes_needed: int = 2,
        max_side_px: int = 1600,
    ) -> None:
        if votes_needed < 1:
            raise ValueError("votes_needed must be at least 1")
        if decoders is None:
            decoders = {"zxing": ZxingDecoder()}
            zbar = ZbarDecoder.load()
            if zbar is not None:
                decoders["zbar"] = zbar
        self.decoders = decoders
        self.cascade = tuple(a for a in cascade if a.decoder in decoders)
        self.votes_needed = votes_needed
        self.max_side_px = max_side_px

    def run_attempt(self, gray: np.ndarray, attempt: Attempt) -> list[Decoded]:
        """One attempt on a greyscale image; an attempt that does not apply reads nothing."""
        prepared = attempt.prep(gray)
        if prepared is None:
            return []
        return self.decoders[attempt.decoder].decode(prepared, with_2d=attempt.with_2d)

    def read(self, image: np.ndarray) -> ImageRead:
        """The image's code when two attempts agree on it (see module docstring)."""
        start = time.perf_counter()
        gray = preprocess.fit_within(preprocess.to_gray(image), self.max_side_px)
        tally = Tally()
        runs = 0
        for attempt in self.cascade:
            tally.add(self.run_attempt(gray, attempt), attempt.name)
            runs += 1
            if any(v >= self.votes_needed for v in tally.votes.values()) or any(
                is_2d(d) for d in tally.decoded.values()
            ):
                break
        return self._decide(tally, runs, start)

    def _decide(self, tally: Tally, runs: int, start: float) -> ImageRead:
        candidates = tally.candidates()
        ms = (time.perf_counter() - start) * 1000.0
        confirmed = [c for c in candidates if c.votes >= self.votes_needed or is_2d(c.decoded)]
        if confirmed and (len(confirmed) == 1 or confirmed[0].votes > confirmed[1].votes):
            best = confirmed[0].decoded
            return ImageRead(best.text, best.symbology, best.key, candidates, runs, ms)
        return ImageRead(None, None, None, candidates, runs, ms)
