"""Turns HX711 conversions into numbered sample batches and status reports (PROTOCOL.md, MCU -> Pi).

Every conversion gets the next 16-bit sequence number. A batch goes out when it holds
max(1, sps // 10) samples or its oldest sample is 100 ms old. The sampler never waits on the chip:
a chip that stops converting is reported as CHIP_SILENT, a stuck data line as CHIP_FAULT, and both
are repeated once a second until the chip recovers.
"""

from micropython import const

from hx711 import ChipError

from scale_mcu import frames

SAMPLING = const(0)
CHIP_SILENT = const(1)
POWERED_DOWN = const(2)
CHIP_FAULT = const(3)

CAUSE_CHANGE = const(0)
CAUSE_BOOT = const(1)
CAUSE_HEARTBEAT = const(2)

BATCH_AGE_MS = const(100)
HEARTBEAT_MS = const(1000)
MAX_BATCH = const(32)


class Sampler:
    def __init__(self, chip, send, now_ms, ticks_diff):
        self.chip = chip
        self.send = send  # callable taking one frame (bytes)
        self.diff = ticks_diff
        self.state = SAMPLING
        self.next_seq = 0
        self.batch = []
        self.batch_seq = 0
        self.batch_ms = now_ms
        self.status_ms = now_ms
        self.samples_taken = 0
        self.chip_errors = 0

    def batch_max(self):
        return max(1, min(MAX_BATCH, self.chip.sps // 10))

    def send_status(self, cause, now_ms):
        self.status_ms = now_ms
        self.send(frames.encode_status(self.state, self.chip.sps, self.next_seq, cause))

    def _set_state(self, state, now_ms):
        if state != self.state:
            self.flush()
            self.state = state
            self.send_status(CAUSE_CHANGE, now_ms)

    def flush(self):
        if self.batch:
            self.send(frames.encode_samples(self.batch_seq, self.batch))
            self.batch = []

    def poll(self, now_ms):
        if self.state != POWERED_DOWN:
            try:
                value = self.chip.poll(now_ms)
            except ChipError:
                self.chip_errors += 1
                self._set_state(CHIP_FAULT, now_ms)
                value = None
            if value is not None:
                self._set_state(SAMPLING, now_ms)
                if not self.batch:
                    self.batch_seq = self.next_seq
                    self.batch_ms = now_ms
                self.batch.append(value)
                self.next_seq = (self.next_seq + 1) & 0xFFFF
                self.samples_taken += 1
            elif self.state == SAMPLING and self.chip.silent(now_ms):
                self._set_state(CHIP_SILENT, now_ms)
        if self.batch and (
            len(self.batch) >= self.batch_max() or self.diff(now_ms, self.batch_ms) >= BATCH_AGE_MS
        ):
            self.flush()
        if self.state != SAMPLING and self.diff(now_ms, self.status_ms) >= HEARTBEAT_MS:
            self.send_status(CAUSE_HEARTBEAT, now_ms)

    def power_down(self, now_ms):
        self.chip.power_down()
        self._set_state(POWERED_DOWN, now_ms)

    def power_up(self, now_ms):
        if self.state == POWERED_DOWN:
            self.chip.power_up(now_ms)
            self._set_state(SAMPLING, now_ms)

    def set_rate(self, sps, now_ms):
        self.flush()
        return self.chip.set_rate(sps, now_ms)
