"""`cartd --emulate`: the whole cart with its hardware emulated, playing a recorded session on a loop.

- scale: the real MCU firmware on the MicroPython unix port behind a pty (`firmware.scale.emulator`),
  streaming the session's load-cell samples; cartd reads it with the real serial driver;
- camera: frames at 10 fps of the basket, with a product's barcode held up whenever the recorded
  shopper scanned it, read by the real camera path (decoders, debouncer);
- shopper: the session's touches (PLU keyed, removal announced, checkout) sent as intents, as the
  screen would; at the session's end the next one starts, and the recording plays again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from firmware.camera.pipeline import CameraScanner
from firmware.camera.sources import Frame
from firmware.camera.synthetic import blank_frame, frame_with_code
from firmware.core.catalog import Catalog
from firmware.core.events import (
    CheckoutRequested,
    CodeRead,
    Event,
    PluKeyed,
    RemovalAnnounced,
    ScaleSampled,
    SessionEnded,
)
from firmware.core.trace import Trace, read_trace
from firmware.daemon.config import CartConfig, CartSection, DaemonSection
from firmware.daemon.main import Daemon
from firmware.scale.calibration import DEFAULT_CALIBRATION, Calibration
from firmware.scale.emulator import Emulator, counts_from_trace
from firmware.scale.source import SerialScaleSource

DEMO_TRACE = Path(__file__).resolve().parents[1] / "demo" / "session"
CAMERA_FPS = 10.0
SHOW_CODE_S = 1.2  # how long the shopper holds an item up to the camera
log = logging.getLogger("cartd.emulate")


class EmulatedCamera:
    """Frames of the basket; `show(code)` holds a barcode up for a moment."""

    def __init__(self, catalog: Catalog, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.scanner = CameraScanner(lambda text: catalog.knows(text))
        self.clock = clock
        self.blank = blank_frame()
        self._showing: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._next = clock()

    def show(self, code: str) -> None:
        with self._lock:
            self._showing = (code, self.clock() + SHOW_CODE_S)

    def poll(self) -> list[Event]:
        delay = self._next - self.clock()
        if delay > 0:
            time.sleep(delay)
        self._next = max(self._next + 1.0 / CAMERA_FPS, self.clock())
        now = self.clock()
        with self._lock:
            showing = self._showing if self._showing and self._showing[1] > now else None
        image: np.ndarray = self.blank
        if showing is not None:
            wobble = (int(8 * np.sin(now * 7)), int(6 * np.cos(now * 5)))  # a hand is never quite still
            image = frame_with_code(showing[0], offset=wobble)
        return list(self.scanner.handle_frame(Frame(now, image, "emulated")))


class EmulatedShopper(threading.Thread):
    """Plays the recorded session's scans and touches against the running daemon, on a loop."""

    def __init__(self, daemon: Daemon, trace: Trace, camera: EmulatedCamera, scale: ScaleRig, loops: int) -> None:
        super().__init__(name="shopper", daemon=True)
        self.daemon, self.trace, self.camera, self.scale, self.loops = daemon, trace, camera, scale, loops
        self.stopping = threading.Event()

    def call(self, op: str, **args: object) -> None:
        loop = self.daemon.loop
        assert loop is not None

        async def run() -> None:
            try:
                self.daemon.service.intent(op, dict(args))
            except Exception as exc:  # a refused intent is part of the story, not a crash
                log.warning("intent %s refused: %s", op, exc)

        asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=10)

    def run(self) -> None:
        played = 0
        while not self.stopping.is_set() and (self.loops == 0 or played < self.loops):
            self.scale.restart()
            if not self.scale.wait_for_samples(self.daemon, timeout_s=30):
                log.error("the emulated scale sends nothing; retrying")
                continue
            self.call("start")
            started = time.monotonic()
            for event in self.trace.events:
                if isinstance(event, ScaleSampled):
                    continue
                if self.stopping.wait(max(0.0, started + event.t - time.monotonic())):
                    return
                self.act(event)
            played += 1
        if self.loops:
            self.daemon.loop.call_soon_threadsafe(self.daemon.stopped.set)  # type: ignore[union-attr]

    def act(self, event: Event) -> None:
        if isinstance(event, CodeRead):
            self.camera.show(event.text)
        elif isinstance(event, PluKeyed):
            self.call("plu", plu=event.plu)
        elif isinstance(event, RemovalAnnounced):
            self.call("remove", code=event.code)
        elif isinstance(event, CheckoutRequested):
            self.call("checkout")
        elif isinstance(event, SessionEnded):
            self.call("end")


HOLD_AFTER_END_S = 10.0  # the scale runs a little ahead of the shopper: never loop before the session ends


def hold_last_counts(counts: list[int], sps: float, seconds: float) -> list[int]:
    """The trace's counts, then its last reading held for `seconds`: the MCU emulator loops its
    counts, and the scale starts streaming before the shopper starts the session, so without the
    hold the basket would seem to empty itself just before the session's end (added for the HIL rig)."""
    return counts + [counts[-1]] * int(seconds * sps) if counts else counts


class ScaleRig:
    """The MCU emulator on a pty, restarted at every loop so its samples line up with the shopper."""

    def __init__(self, trace_path: Path, link: Path) -> None:
        counts, self.sps = counts_from_trace(trace_path)
        self.counts = hold_last_counts(counts, self.sps, HOLD_AFTER_END_S)
        self.link = link
        self.emulator: Emulator | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def restart(self) -> None:
        self.close()
        self._stop.clear()
        self.emulator = Emulator(self.link, self.counts, self.sps)
        self.emulator.start()
        emulator = self.emulator

        def pump() -> None:
            while not self._stop.is_set():
                emulator.step(0.05)

        self._thread = threading.Thread(target=pump, name="scale-emulator", daemon=True)
        self._thread.start()

    def wait_for_samples(self, daemon: Daemon, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        seen = daemon.service.samples_seen
        while time.monotonic() < deadline:
            if daemon.service.samples_seen > seen:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.emulator is not None:
            self.emulator.close()
            self.emulator = None


def run_emulated(args: argparse.Namespace) -> int:
    trace_path = Path(args.trace or DEMO_TRACE)
    trace = read_trace(trace_path)
    state_dir = Path(args.state_dir) if args.state_dir else Path(tempfile.gettempdir()) / "smartcart-emulated"
    config = CartConfig(
        cart=CartSection(id=trace.header.cart_id or "demo-cart"),
        daemon=DaemonSection(state_dir=str(state_dir), listen=args.listen or ""),
    )
    daemon = Daemon(config, trace.header.catalog_path)
    header = trace.header
    calibration = (
        Calibration(header.offset, header.counts_per_gram) if header.scale_unit == "counts" else DEFAULT_CALIBRATION
    )
    rig = ScaleRig(trace_path, state_dir / "scale-tty")
    rig.restart()  # the pty exists before the serial driver first opens it
    source = SerialScaleSource(str(rig.link), calibration)
    daemon.add_device("scale", lambda: source.poll(0.1))
    camera = EmulatedCamera(daemon.catalog)
    daemon.add_device("camera", camera.poll)
    shopper = EmulatedShopper(daemon, trace, camera, rig, args.loops)

    async def main() -> None:
        runner = asyncio.create_task(daemon.run(config.daemon.listen))
        while daemon.loop is None or not daemon.api.servers:
            await asyncio.sleep(0.05)
        shopper.start()
        await runner

    print(
        f"emulated cart {config.cart.id}: playing {trace_path} ({trace.end_t:.0f} s) on a loop; "
        f"API on {daemon.socket_path}",
        flush=True,
    )
    try:
        asyncio.run(main())
    finally:
        shopper.stopping.set()
        rig.close()
        source.close()
    return 0
