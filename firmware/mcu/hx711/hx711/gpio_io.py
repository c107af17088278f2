"""HX711 chip IO by bit-banging two GPIO pins.

Interrupts are off for the whole clock-out (25..27 pulses, a few hundred microseconds on an RP2040):
a clock pulse held high for more than 60 us would power the chip down mid-word and corrupt it. The
caller checks ready() first, so read_raw() itself never waits for a conversion.
"""

from hx711 import check_trailer


class GpioIO:
    def __init__(self, clock, data, rate=None, sps=80, irq_off=None, irq_on=None):
        if irq_off is None or irq_on is None:
            import machine

            irq_off, irq_on = machine.disable_irq, machine.enable_irq
        self.clock = clock
        self.data = data
        self.rate = rate
        self._irq_off = irq_off
        self._irq_on = irq_on
        self.pulses = 25
        self.clock.value(0)
        if rate is not None:
            rate.value(1 if sps == 80 else 0)

    def start(self, pulses):
        self.pulses = pulses

    def ready(self):
        return self.data.value() == 0

    def read_raw(self):
        clk = self.clock.value
        dat = self.data.value
        word = 0
        state = self._irq_off()
        try:
            for _ in range(self.pulses):
                clk(1)
                clk(0)
                word = (word << 1) | dat()
        finally:
            self._irq_on(state)
        return check_trailer(word, self.pulses)

    def power_down(self):
        self.clock.value(0)
        self.clock.value(1)

    def power_up(self):
        self.clock.value(0)

    def set_rate(self, sps):
        if self.rate is None:
            return False
        self.rate.value(1 if sps == 80 else 0)
        return True
