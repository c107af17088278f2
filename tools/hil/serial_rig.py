"""The `serial:PATH` target: a real cart's scale on PATH, read through `SerialScaleSource` into the
real cart pipeline, while the rig plays the scenario's steps as prompts to a person or a robot.

The rig itself does what the screen and the hand scanner would do (scans, PLUs, removal
announcements, checkout) at the scenario's moments; the physical steps (put in, take out, push,
press, pull the cable) are prompts. With `pace="timed"` prompts come on the scenario's clock; with
`pace="manual"` the rig waits for Enter after each physical step and shifts the rest of the story.
Tested against the scale emulator streaming the compiled scenario's own counts (a perfect robot).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from firmware.core.catalog import load_catalog
from firmware.core.events import (
    CheckoutRequested,
    CodeRead,
    Event,
    PluKeyed,
    RemovalAnnounced,
    ScaleSampled,
    SessionEnded,
)
from firmware.pipeline import CartPipeline
from firmware.scale import calibration as calibration_file
from firmware.scale.calibration import Calibration
from firmware.scale.source import SerialScaleSource
from firmware.verifiers import VERIFIER_NAMES, make_verifier
from tools.hil.compiler import Compiled

FIRST_SAMPLES_TIMEOUT_S = 20.0


class RigError(RuntimeError):
    pass


def load_rig_calibration(path: Path | None, compiled: Compiled) -> Calibration:
    """The cart's calibration file: the one given, else $SMARTCART_CALIBRATION or the cart's default."""
    chosen = path or calibration_file.default_path()
    if not chosen.exists():
        raise RigError(f"no calibration at {chosen}: give --calibration FILE (the cart's calibration.toml)")
    return calibration_file.load(chosen)


def _digital(compiled: Compiled) -> list[tuple[float, int, Event]]:
    """The touches and scans the rig performs itself: (scenario t, step index, event at t=0)."""
    out: list[tuple[float, int, Event]] = []
    for timing in compiled.steps:
        for t, text, symbology in timing.scans:
            out.append((t, timing.step.index, CodeRead(0.0, text, symbology, "scanner")))
        for e in timing.events:
            if e["type"] != "input":
                continue
            if e["action"] == "plu":
                out.append((e["t"], timing.step.index, PluKeyed(0.0, e["plu"])))
            elif e["action"] == "remove":
                out.append((e["t"], timing.step.index, RemovalAnnounced(0.0, e["code"])))
            elif e["action"] == "checkout":
                out.append((e["t"], timing.step.index, CheckoutRequested(0.0)))
    return sorted(out, key=lambda x: x[0])


class _Rig:
    def __init__(self, compiled: Compiled, port: str, calibration: Calibration, clock: Callable[[], float]) -> None:
        self.compiled, self.clock = compiled, clock
        self.source = SerialScaleSource(port, calibration, clock)
        catalog = load_catalog(compiled.trace_dir / "catalog.csv")
        session_id = f"{compiled.scenario.name}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.pipeline = CartPipeline(catalog, session_id, cart_id="hil-rig", verifier=make_verifier(VERIFIER_NAMES[0]))
        self.events: queue.Queue[Event] = queue.Queue()
        self.stopping = threading.Event()
        self.poller = threading.Thread(target=self._poll, name="hil-scale", daemon=True)
        self.t0 = 0.0
        self.sample_blocks: list[tuple[float, float, tuple[float, ...]]] = []

    def _poll(self) -> None:
        while not self.stopping.is_set():
            for event in self.source.poll(0.1):
                self.events.put(event)

    def wait_for_samples(self) -> None:
        deadline = time.monotonic() + FIRST_SAMPLES_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if isinstance(event, ScaleSampled):
                self.t0 = self.clock()
                return
        reason = self.source.fault_reason or "no samples"
        raise RigError(f"the scale gave no samples within {FIRST_SAMPLES_TIMEOUT_S:g} s ({reason})")

    def now(self) -> float:
        return self.clock() - self.t0

    def pump(self, until_t: float) -> None:
        """Feed the scale's events to the pipeline until session time `until_t`."""
        while True:
            remaining = until_t - self.now()
            try:
                event = self.events.get(timeout=max(0.0, min(remaining, 0.05)))
            except queue.Empty:
                event = None
            if event is not None:
                shifted = replace(event, t=event.t - self.t0)
                if shifted.t >= 0:
                    if isinstance(shifted, ScaleSampled):
                        self.sample_blocks.append((shifted.t, shifted.sps, shifted.values_g))
                    self.pipeline.feed(shifted)
            self.pipeline.tick(self.now())
            if remaining <= 0 and self.events.empty():
                return

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.sample_blocks:
            return np.zeros(0), np.zeros(0)
        ts = [t + np.arange(len(v)) / sps for t, sps, v in self.sample_blocks]
        return np.concatenate(ts), np.concatenate([np.asarray(v) for _, _, v in self.sample_blocks])

    def close(self) -> None:
        self.stopping.set()
        self.poller.join(timeout=2)
        self.source.close()


def run_serial(
    compiled: Compiled,
    port: str,
    calibration: Calibration,
    result: Any,
    *,
    pace: str = "timed",
    prompt: Callable[[str], None] = print,
    wait_for_person: Callable[[str], object] = input,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    if pace not in ("timed", "manual"):
        raise ValueError(f"pace must be timed or manual, got {pace!r}")
    rig = _Rig(compiled, port, calibration, clock)
    rig.poller.start()
    try:
        rig.wait_for_samples()
        scenario = compiled.scenario
        prompt(f"scenario {scenario.name}: {scenario.description}")
        delay = 0.0
        digital = _digital(compiled)
        n = len(compiled.steps)
        for timing in compiled.steps:
            rig.pump(timing.t0 + delay)
            note = f" ({timing.step.note})" if timing.step.note else ""
            prompt(f"[{rig.now():6.1f} s] step {timing.step.index}/{n}: {timing.prompt}{note}")
            for t, _, event in [d for d in digital if d[1] == timing.step.index]:
                rig.pump(t + delay)
                rig.pipeline.feed(replace(event, t=rig.now()))
            if pace == "manual" and timing.physical:
                wait_for_person("  press Enter when done ")
                delay = max(delay, rig.now() - timing.t1)
        rig.pump(compiled.duration_s + delay)
        rig.pipeline.feed(SessionEnded(rig.now()))
        stats = {"target": f"serial:{port}", "scale": rig.source.stats(), "pace": pace}
        report = rig.pipeline.close(stats)
    finally:
        rig.close()
    result.samples_t, result.samples_g = rig.samples()
    return report
