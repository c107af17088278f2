"""HX711 sampling logic, independent of how the chip's two wires are driven.

The chip IO object (GpioIO in gpio_io.py, PioIO in pio_io.py, FakeChipIO in fake_io.py) answers:

    start(pulses)  set the clock pulses per conversion (25 = channel A gain 128, 26 = B 32, 27 = A 64)
    ready()        True when a conversion waits to be clocked out (DOUT low); never blocks
    read_raw()     the 24-bit two's complement word; raises ChipError if the data line stays low
    power_down()   power_up()
    set_rate(sps)  True if the board can switch the RATE pin to that rate

This class never waits for the chip: poll() returns None when nothing is ready, and silent() says
when the chip has been quiet for longer than it can be while working, so a dead or unplugged chip is
reported by the caller instead of hanging it.
"""

GAIN_PULSES = {128: 25, 32: 26, 64: 27}
RATES_SPS = (10, 80)


class ChipError(Exception):
    pass


def to_signed24(raw):
    raw &= 0xFFFFFF
    return raw - 0x1000000 if raw & 0x800000 else raw


def check_trailer(word, pulses):
    """Splits the bits clocked out into the 24-bit sample, checking the extra bits.

    After the 24 data bits DOUT goes high, so every bit clocked past the 24th must read 1; zeros
    there mean the data line is stuck low (shorted, chip unpowered with a pull-down)."""
    extra = pulses - 24
    mask = (1 << extra) - 1
    if word & mask != mask:
        raise ChipError("data line stuck low")
    return (word >> extra) & 0xFFFFFF


class HX711:
    def __init__(self, io, gain=128, sps=80, now_ms=0, ticks_diff=None):
        if gain not in GAIN_PULSES:
            raise ValueError("gain must be 128, 64 or 32")
        if sps not in RATES_SPS:
            raise ValueError("sps must be 10 or 80")
        self.io = io
        self.gain = gain
        self.sps = sps
        self.powered = True
        self._diff = ticks_diff or _ticks_diff
        self.io.start(GAIN_PULSES[gain])
        self._restart(now_ms)

    def _restart(self, now_ms):
        self.last_ms = now_ms
        # datasheet: output settles 4 conversions after power-up, reset or a rate change
        self._discard = 4

    def period_ms(self):
        return 1000 // self.sps

    def silent_after_ms(self):
        return 4 * self.period_ms() + 100

    def poll(self, now_ms):
        """One conversion as a signed count, or None. Raises ChipError on a stuck data line."""
        if not self.powered or not self.io.ready():
            return None
        value = to_signed24(self.io.read_raw())
        self.last_ms = now_ms
        if self._discard:
            self._discard -= 1
            return None
        return value

    def silent(self, now_ms):
        return self.powered and self._diff(now_ms, self.last_ms) > self.silent_after_ms()

    def power_down(self):
        self.io.power_down()
        self.powered = False

    def power_up(self, now_ms):
        self.io.power_up()
        self.io.start(GAIN_PULSES[self.gain])
        self.powered = True
        self._restart(now_ms)

    def set_rate(self, sps, now_ms):
        if sps not in RATES_SPS:
            return False
        if sps == self.sps:
            return True
        if not self.io.set_rate(sps):
            return False
        self.sps = sps
        self._restart(now_ms)
        return True


def _ticks_diff(a, b):
    try:
        from time import ticks_diff
    except ImportError:
        return a - b
    return ticks_diff(a, b)
