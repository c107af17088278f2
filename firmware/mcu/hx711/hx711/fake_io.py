"""A fake HX711 chip IO for tests and the emulator: counts come from a callable, readiness from a clock.

`source(index)` gives the count of conversion `index`. `now_us()` is
the clock in microseconds; a conversion is ready once per 1e6/sps us. Faults are switched on by the test:
`silent = True` (never ready, as an unplugged chip) or `stuck_low = True` (DOUT shorted low).
"""

from time import ticks_add, ticks_diff

from hx711 import check_trailer


class FakeChipIO:
    def __init__(self, source, now_us, sps=80, can_set_rate=True):
        self.source = source
        self.now_us = now_us
        self.sps = sps
        self.can_set_rate = can_set_rate
        self.pulses = 25
        self.powered = True
        self.silent = False
        self.stuck_low = False
        self.index = 0
        self.reads = 0
        self._next_us = ticks_add(now_us(), 1_000_000 // sps)

    def start(self, pulses):
        self.pulses = pulses

    def ready(self):
        if self.stuck_low:
            return True
        if not self.powered or self.silent:
            return False
        return ticks_diff(self.now_us(), self._next_us) >= 0

    def read_raw(self):
        self.reads += 1
        if self.stuck_low:
            return check_trailer(0, self.pulses)  # every bit, the trailer included, reads 0: raises
        value = self.source(self.index)
        self.index += 1
        self._next_us = ticks_add(self._next_us, 1_000_000 // self.sps)
        if ticks_diff(self.now_us(), self._next_us) > 1_000_000:
            self._next_us = self.now_us()  # the caller fell far behind: the chip just keeps converting
        extra = self.pulses - 24
        return check_trailer(((value & 0xFFFFFF) << extra) | ((1 << extra) - 1), self.pulses)

    def power_down(self):
        self.powered = False

    def power_up(self):
        self.powered = True
        self._next_us = ticks_add(self.now_us(), 1_000_000 // self.sps)

    def set_rate(self, sps):
        if not self.can_set_rate:
            return False
        self.sps = sps
        return True
