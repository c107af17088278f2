"""From per-frame reads to scans: one `CodeRead` per item that enters the view.

Pure and clock-free: every update carries the frame's time `t`. Rules (issue 4):

- a code is passed on only when it is a valid retail code, known to the catalog (`is_known`) or a
  well-formed variable-measure (in-store, price/weight-embedded) code;
- and only when seen consistently: read by `confirm_attempts` different attempts of the cascade
  (two decoders, or one decoder on two preprocessings) during one visit — in one frame or over
  several — and in at least `min_frames` frames. When all agreeing attempts used the same
  decoder, one more attempt is required (`confirm_attempts + 1`). A GS1 2D code, error-corrected,
  needs one read. Repeats of the *same* attempt on near-identical
  frames do not count twice: a deterministic decoder repeats its misreads (measured).
- an item held in view over many frames is one scan; once the code has been absent for
  `gone_s` seconds *and* `gone_frames` processed frames it has left the view, and seeing it again
  is a new visit (possibly a second unit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from firmware.camera.reader import Candidate, is_2d
from firmware.core.events import CodeRead
from firmware.core.gtin import CodeError, CodeKind, parse_code


@dataclass
class _Visit:
    first_t: float
    last_t: float
    frames_seen: int = 0
    frames_absent: int = 0
    emitted: bool = False
    attempts: set[str] = field(default_factory=set)
    decoders: set[str] = field(default_factory=set)


@dataclass
class DebouncerStats:
    frames: int = 0
    scans: int = 0
    rejected_unknown: int = 0  # valid codes the catalog does not know (reads, not scans)
    rejected_invalid: int = 0
    unconfirmed_visits: int = 0  # visits that ended without enough evidence
    rejected_codes: dict[str, int] = field(default_factory=dict)


class ScanDebouncer:
    def __init__(
        self,
        is_known: Callable[[str], bool],
        min_frames: int = 1,
        confirm_attempts: int = 2,
        gone_s: float = 0.6,
        gone_frames: int = 3,
    ) -> None:
        if min_frames < 1 or confirm_attempts < 1 or gone_s < 0 or gone_frames < 1:
            raise ValueError("min_frames, confirm_attempts, gone_frames must be >= 1 and gone_s >= 0")
        self.is_known = is_known
        self.min_frames = min_frames
        self.confirm_attempts = confirm_attempts
        self.gone_s = gone_s
        self.gone_frames = gone_frames
        self.stats = DebouncerStats()
        self._visits: dict[str, _Visit] = {}

    def acceptable(self, text: str, symbology: str | None) -> bool:
        """Valid, and either in the catalog or a well-formed variable-measure code."""
        sym = "upce" if symbology == "upce" else None
        try:
            parsed = parse_code(text, sym)
        except CodeError:
            self.stats.rejected_invalid += 1
            return False
        if parsed.kind == CodeKind.VARIABLE or self.is_known(text):
            return True
        self.stats.rejected_unknown += 1
        self.stats.rejected_codes[text] = self.stats.rejected_codes.get(text, 0) + 1
        return False

    def update(self, t: float, candidates: Sequence[Candidate]) -> list[CodeRead]:
        """Feed one processed frame's candidates; returns the scans this frame completes."""
        self.stats.frames += 1
        scans: list[CodeRead] = []
        seen: set[str] = set()
        for cand in candidates:
            key = cand.decoded.key
            if key in seen or not self.acceptable(cand.decoded.text, cand.decoded.symbology):
                continue
            seen.add(key)
            visit = self._visits.get(key)
            if visit is None:
                visit = self._visits[key] = _Visit(first_t=t, last_t=t)
            visit.last_t = t
            visit.frames_seen += 1
            visit.frames_absent = 0
            visit.attempts.update(cand.attempts)
            visit.decoders.update(cand.decoders)
            confirmed = visit.frames_seen >= self.min_frames and (
                is_2d(cand.decoded)
                or len(visit.attempts) >= self.confirm_attempts + 1
                or (len(visit.attempts) >= self.confirm_attempts and len(visit.decoders) >= 2)
            )
            if confirmed and not visit.emitted:
                visit.emitted = True
                self.stats.scans += 1
                scans.append(CodeRead(t, cand.decoded.text, cand.decoded.symbology, source="camera"))
        for key, visit in list(self._visits.items()):
            if key in seen:
                continue
            visit.frames_absent += 1
            if visit.frames_absent >= self.gone_frames and t - visit.last_t >= self.gone_s:
                if not visit.emitted:
                    self.stats.unconfirmed_visits += 1
                del self._visits[key]
        return scans

    def in_view(self) -> list[str]:
        """GTIN-14 keys of codes currently considered in view."""
        return sorted(self._visits)
