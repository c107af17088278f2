"""Scale sources: what the cart daemon reads weight from. A source is polled and answers with cart
core events (firmware/core/events.py): ScaleSampled in calibrated grams, ScaleFaulted when the link
is lost or the chip silent, ScaleRestored when good samples flow again.

- SerialScaleSource: the real MCU over ScaleLink, reconnecting by itself after the cable is pulled,
  timestamping batches on an injected monotonic clock.
- FakeScaleSource (fake_source.py): in-process, scripted grams, for daemon and UI tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from firmware.core.events import Event, ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale.calibration import Calibration
from firmware.scale.link import CommandFailed, LinkLost, ProtocolMismatch, ScaleLink
from firmware.scale.protocol import (
    SAMPLE_MAX,
    SAMPLE_MIN,
    ChipState,
    Samples,
    SequenceTracker,
    Status,
    StatusCause,
)

TIMESTAMP_SLEW = 0.02  # share of the arrival-time error corrected per batch
TIMESTAMP_TOLERANCE_S = 0.25  # beyond this the batch clock re-anchors on the arrival time


class ScaleSource(Protocol):
    def poll(self, timeout_s: float = 0.1) -> list[Event]:
        """Events since the last poll, waiting at most about `timeout_s` when there are none."""
        ...

    def stats(self) -> dict[str, int]: ...

    def close(self) -> None: ...


@dataclass
class _Timing:
    """Stamps batches: continuous at the chip's rate, slewed gently toward the arrival times."""

    next_t: float | None = None
    last_t: float = float("-inf")

    def stamp(self, arrival_t: float, n: int, missing: int, sps: float) -> float:
        estimate = arrival_t - (n - 1) / sps
        if self.next_t is None:
            t = estimate
        else:
            continued = self.next_t + missing / sps
            error = estimate - continued
            t = continued + TIMESTAMP_SLEW * error if abs(error) <= TIMESTAMP_TOLERANCE_S else estimate
        t = max(t, self.last_t)
        self.last_t = t
        self.next_t = t + n / sps
        return t

    def reset(self) -> None:
        self.next_t = None


class SerialScaleSource:
    """The MCU scale over a serial port or pyserial URL. Never raises from poll(): every failure
    becomes a ScaleFaulted event, and the source keeps trying to reconnect."""

    def __init__(
        self,
        port: str,
        calibration: Calibration,
        clock: Callable[[], float] = time.monotonic,
        *,
        reconnect_interval_s: float = 0.5,
        mismatch_retry_s: float = 5.0,
        silence_timeout_s: float = 1.5,
        link: ScaleLink | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.calibration = calibration
        self.clock = clock
        self.reconnect_interval_s = reconnect_interval_s
        self.mismatch_retry_s = mismatch_retry_s
        self.silence_timeout_s = silence_timeout_s
        self.link = link or ScaleLink(port)
        self._sleep = sleep
        self.tracker = SequenceTracker()
        self._timing = _Timing()
        self.sps = 80.0
        self.faulted = False
        self.fault_reason: str | None = None
        self.connected_once = False
        self.reconnects = 0
        self.mcu_restarts = 0
        self.samples = 0
        self.refused: str | None = None  # the protocol-mismatch message, while the MCU is refused
        self._want_power = True
        self._next_attempt = 0.0
        self._last_rx = 0.0
        self._events: list[Event] = []

    # --- faults ---------------------------------------------------------------------------------

    def _fault(self, reason: str) -> None:
        if not self.faulted:
            self._events.append(ScaleFaulted(self.clock(), reason))
            self.faulted = True
        self.fault_reason = reason

    def _restore(self) -> None:
        if self.faulted:
            self._events.append(ScaleRestored(self.clock()))
            self.faulted = False
            self.fault_reason = None

    def _drop_link(self, reason: str, retry_in_s: float) -> None:
        self.link.close()
        self._fault(reason)
        self._timing.reset()
        self._next_attempt = time.monotonic() + retry_in_s

    # --- connecting -----------------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self.link.open()
        except LinkLost as exc:
            self._drop_link(f"scale link down: {exc}", self.reconnect_interval_s)
            return
        if self._handshake():
            if self.connected_once:
                self.reconnects += 1
            self.connected_once = True

    def _handshake(self) -> bool:
        try:
            identity = self.link.identify()
            if self._want_power:
                self.link.power_up()  # harmless when already up; undoes a power-down from a past session
        except ProtocolMismatch as exc:
            self.refused = str(exc)
            self._drop_link(str(exc), self.mismatch_retry_s)
            return False
        except (LinkLost, CommandFailed) as exc:
            self._drop_link(f"scale link down: {exc}", self.reconnect_interval_s)
            return False
        self.refused = None
        self.sps = float(identity.sps)
        self.tracker.reset(identity.next_seq)
        self._timing.reset()
        self._last_rx = time.monotonic()
        return True

    # --- polling --------------------------------------------------------------------------------

    def poll(self, timeout_s: float = 0.1) -> list[Event]:
        if not self.link.is_open:
            wait_s = self._next_attempt - time.monotonic()
            if wait_s > 0:
                self._sleep(min(wait_s, timeout_s))
            else:
                self._connect()
            return self._take_events()
        try:
            messages = self.link.read(timeout_s)
        except LinkLost as exc:
            self._drop_link(f"scale link lost: {exc}", self.reconnect_interval_s)
            return self._take_events()
        now = time.monotonic()
        if messages:
            self._last_rx = now
        elif now - self._last_rx > self.silence_timeout_s:
            self._drop_link(f"no data from the scale MCU for {self.silence_timeout_s:g} s", 0.0)
            return self._take_events()
        arrival_t = self.clock()
        for message in messages:
            try:
                if isinstance(message, Samples):
                    self._on_samples(message, arrival_t)
                elif isinstance(message, Status):
                    self._on_status(message)
            except (LinkLost, CommandFailed) as exc:
                self._drop_link(f"scale link lost: {exc}", self.reconnect_interval_s)
                break
        return self._take_events()

    def _take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def _on_samples(self, batch: Samples, arrival_t: float) -> None:
        accepted, missing = self.tracker.accept(batch)
        if not accepted:
            return
        t = self._timing.stamp(arrival_t, len(batch.counts), missing, self.sps)
        if all(c in (SAMPLE_MAX, SAMPLE_MIN) for c in batch.counts):
            self._fault("load cell saturated (HX711 reading at its limit)")
            return
        self._restore()
        self.samples += len(batch.counts)
        grams = tuple(self.calibration.grams(c) for c in batch.counts)
        self._events.append(ScaleSampled(t, self.sps, grams))

    def _on_status(self, status: Status) -> None:
        if status.cause == StatusCause.BOOT:
            # the MCU restarted: numbering starts again, and it may be other firmware now
            self.mcu_restarts += 1
            self._handshake()
            return
        if status.state == ChipState.CHIP_SILENT:
            self._fault("HX711 not answering (no conversion from the chip)")
        elif status.state == ChipState.CHIP_FAULT:
            self._fault("HX711 data line stuck low")
        elif status.state == ChipState.POWERED_DOWN and self._want_power:
            self.link.power_up()
        if status.sps in (10, 80):
            self.sps = float(status.sps)

    # --- commands -------------------------------------------------------------------------------

    def set_rate(self, sps: int) -> None:
        self.sps = float(self.link.set_rate(sps))
        self._timing.reset()

    def power_down(self) -> None:
        self._want_power = False
        self.link.power_down()

    def power_up(self) -> None:
        self._want_power = True
        self.link.power_up()

    def stats(self) -> dict[str, int]:
        c = self.link.counters
        return {
            "samples": self.samples,
            "gaps": self.tracker.gaps,
            "crc_errors": c.crc_errors,
            "framing_errors": c.framing_errors,
            "garbage_bytes": c.garbage_bytes,
            "duplicates": self.tracker.duplicates,
            "reconnects": self.reconnects,
            "mcu_restarts": self.mcu_restarts,
            "resends": self.link.resends,
            "frames": c.frames,
            "bytes_in": self.link.bytes_in,
        }

    def close(self) -> None:
        self.link.close()
