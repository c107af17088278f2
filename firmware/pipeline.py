"""The cart pipeline: scale samples, scans and touches in; bill, alerts and review out.

One pipeline serves the daemon and `cartctl replay` alike. It owns the weighing stage and the
fusion core, journals every core input before the core acts on it and every decision after, and
keeps load-cell samples and discrete events in time order: a scale block covers `[t, t + n/sps)`,
so a scan stamped inside it is handled after the samples taken before it and before the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from firmware.core.catalog import Catalog
from firmware.core.events import (
    ClockTicked,
    CodeRead,
    Event,
    FrameCaptured,
    ScaleFaulted,
    ScaleRestored,
    ScaleSampled,
    SessionEnded,
    WeightSettled,
)
from firmware.core.fusion import Effect, Fusion, FusionConfig
from firmware.core.report import build_report
from firmware.core.review import Review, ReviewConfig, decide
from firmware.core.verifier import Verifier
from firmware.core.weighing import Weighing, WeighingConfig
from firmware.core.weightbook import WeightBook
from firmware.journal import Journal, JournalError

FrameReader = Callable[[FrameCaptured], list[Event]]
EffectListener = Callable[[Effect], None]
OutboxMaker = Callable[[dict[str, Any]], dict[str, Any]]  # report -> {message_id, topic, payload}


@dataclass(slots=True)
class PipelineStats:
    frames: int = 0
    frames_ignored: int = 0
    scans_from_frames: int = 0


class CartPipeline:
    def __init__(
        self,
        catalog: Catalog,
        session_id: str,
        *,
        journal: Journal | None = None,
        cart_id: str | None = None,
        verifier: Verifier | None = None,
        weighing: WeighingConfig | None = None,
        fusion: FusionConfig | None = None,
        review: ReviewConfig | None = None,
        frame_reader: FrameReader | None = None,
        catalog_sha256: str | None = None,
        resume: bool = False,
        book: WeightBook | None = None,
    ) -> None:
        self.catalog = catalog
        self.session_id = session_id
        self.journal = journal or Journal(None)
        self.weighing = Weighing(weighing)
        self.fusion = Fusion(catalog, verifier, fusion, book)
        self.book = book
        self.review_config = review
        self.frame_reader = frame_reader
        self.stats = PipelineStats()
        self.listeners: list[EffectListener] = []
        self.ended = False
        self._samples: deque[tuple[float, float, float]] = deque()
        self.rebuilt_effects: list[Effect] = []  # what a recovery re-derived from the journal
        if not resume:
            self.journal.open_session(session_id, cart_id, catalog.source or None, catalog_sha256 or catalog.sha256)

    # -- input ---------------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        if self.ended:
            return
        if isinstance(event, ScaleSampled):
            self.journal.record_samples(self.session_id, event)
            self._run_samples(until=event.t, inclusive=False)
            step = 1.0 / event.sps
            self._samples.extend((event.t + i * step, v, event.sps) for i, v in enumerate(event.values_g))
            return
        self._run_samples(until=event.t, inclusive=True)
        if isinstance(event, FrameCaptured):
            self.stats.frames += 1
            if self.frame_reader is None:
                self.stats.frames_ignored += 1
                return
            for produced in self.frame_reader(event):
                if isinstance(produced, CodeRead):
                    self.stats.scans_from_frames += 1
                self._to_core(produced)
            return
        if isinstance(event, ScaleFaulted | ScaleRestored):
            # the link's word on the scale goes through the weighing stage, which owns its state
            produced = (
                self.weighing.fault(event.t, event.reason)
                if isinstance(event, ScaleFaulted)
                else (self.weighing.restore(event.t))
            )
            if produced is not None:
                self._to_core(produced)
            return
        self._to_core(event)
        if isinstance(event, SessionEnded):
            self.ended = True
            self._samples.clear()

    def feed_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.feed(event)

    def tick(self, t: float) -> None:
        """Wall-clock heartbeat from the daemon: deadlines fire even when nothing happens."""
        self._run_samples(until=t, inclusive=True)
        due = self.fusion.next_deadline()
        if due is not None and due <= t:  # journaled like any input, so a rebuild fires it too
            self._to_core(ClockTicked(t))

    # -- output --------------------------------------------------------------------------------

    def review(self) -> Review:
        return decide(self.fusion, self.review_config)

    def report(self, stats: dict[str, Any] | None = None) -> dict[str, Any]:
        merged: dict[str, Any] = {
            "weight_changes": self.weighing.stats.changes,
            "samples": self.weighing.stats.samples,
            "auto_zeros": self.weighing.stats.auto_zeros,
            "frames": self.stats.frames,
            "scans_from_frames": self.stats.scans_from_frames,
        }
        if self.stats.frames_ignored:
            merged["frames_ignored"] = self.stats.frames_ignored
        merged.update(stats or {})
        return build_report(self.session_id, self.fusion, self.review(), merged)

    def close(self, stats: dict[str, Any] | None = None, outbox: OutboxMaker | None = None) -> dict[str, Any]:
        """Final report; with `outbox`, the message for the store is queued in the same transaction."""
        report = self.report(stats)
        self.journal.close_session(self.session_id, report, outbox(report) if outbox else None)
        if self.book is not None:  # what a settled session weighed teaches the next ones
            self.book.learn_session(self.fusion.basket, settled=not report["review"]["required"])
        return report

    # -- internals -----------------------------------------------------------------------------

    def _run_samples(self, until: float, inclusive: bool) -> None:
        samples = self._samples
        weighing = self.weighing
        while samples and (samples[0][0] < until or (inclusive and samples[0][0] <= until)):
            t, value, sps = samples.popleft()
            for produced in weighing.push(t, value, sps):
                self._to_core(produced)

    def _to_core(self, event: Event) -> None:
        self.journal.record_input(self.session_id, event)
        effects = self.fusion.handle(event)
        if isinstance(event, WeightSettled):
            self.journal.record_state(self.session_id, event.t, "weighing", self.weighing.snapshot())
        self.weighing.expect_empty = self.fusion.expects_empty
        self.journal.record_effects(self.session_id, effects)
        for effect in effects:
            for listener in self.listeners:
                listener(effect)


def recover(journal: Journal, session_id: str, catalog: Catalog, **options: Any) -> CartPipeline:
    """Rebuild an open session from its journal after a crash: same lines, total and alerts."""
    row = journal.session(session_id)
    if row is None:
        raise JournalError(f"no session {session_id} in the journal")
    if row.state != "open":
        raise JournalError(f"session {session_id} already ended")
    if row.catalog_sha256 and catalog.sha256 and row.catalog_sha256 != catalog.sha256:
        # rebuilt with other prices it would not be the same session: staff must settle it
        raise JournalError(
            f"session {session_id} was priced with catalog {row.catalog_sha256[:12]}, "
            f"the cart now has {catalog.sha256[:12]}: it cannot be rebuilt exactly"
        )
    pipeline = CartPipeline(catalog, session_id, journal=journal, resume=True, **options)
    for event in journal.inputs(session_id):
        pipeline.rebuilt_effects.extend(pipeline.fusion.handle(event))
    pipeline.weighing.expect_empty = pipeline.fusion.expects_empty
    snapshot = journal.last_state(session_id, "weighing")
    if snapshot is not None:
        pipeline.weighing.restore_snapshot(snapshot)
    return pipeline
