"""HX711 chip IO on an RP2040 PIO state machine.

The state machine waits for DOUT to fall, clocks out the configured number of bits at 1 MHz (2 us
high, well under the chip's 60 us power-down limit, with no CPU involvement so interrupts cannot
stretch a pulse) and pushes the word into its RX FIFO; ready() is just "the FIFO holds a word".
Requires the `rp2` module (RP2040/RP2350 boards); not exercised on the unix port.
"""

import rp2

from hx711 import check_trailer


@rp2.asm_pio(sideset_init=rp2.PIO.OUT_LOW, in_shiftdir=rp2.PIO.SHIFT_LEFT, autopush=False)
def _hx711_prog():
    pull(block).side(0)  # noqa: F821 - PIO assembler names; OSR = pulses - 1
    label("conversion")  # noqa: F821
    mov(x, osr).side(0)  # noqa: F821
    wait(0, pin, 0).side(0)  # noqa: F821 - DOUT low: a conversion is ready
    label("bit")  # noqa: F821
    nop().side(1)[1]  # noqa: F821
    in_(pins, 1).side(0)  # noqa: F821
    jmp(x_dec, "bit").side(0)  # noqa: F821
    push(block).side(0)  # noqa: F821
    jmp("conversion").side(0)  # noqa: F821


class PioIO:
    def __init__(self, clock, data, rate=None, sps=80, state_machine=0):
        self.clock = clock
        self.data = data
        self.rate = rate
        self.pulses = 25
        self.sm = rp2.StateMachine(
            state_machine, _hx711_prog, freq=1_000_000, sideset_base=clock, in_base=data
        )
        if rate is not None:
            rate.value(1 if sps == 80 else 0)

    def start(self, pulses):
        self.pulses = pulses
        self.sm.active(0)
        self.sm.restart()
        while self.sm.rx_fifo():
            self.sm.get()
        self.sm.active(1)
        self.sm.put(pulses - 1)

    def ready(self):
        return self.sm.rx_fifo() > 0

    def read_raw(self):
        return check_trailer(self.sm.get(), self.pulses)

    def power_down(self):
        self.sm.active(0)
        self.sm.exec("nop() .side(1)")

    def power_up(self):
        self.sm.exec("nop() .side(0)")
        self.start(self.pulses)

    def set_rate(self, sps):
        if self.rate is None:
            return False
        self.rate.value(1 if sps == 80 else 0)
        return True
