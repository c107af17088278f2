"""HX711 logic over fake chip IO, and the GPIO bit-bang IO against a bit-level fake chip."""

from support import Clock, assert_equal, assert_raises, ticks_diff

from hx711 import HX711, ChipError, to_signed24
from hx711.fake_io import FakeChipIO
from hx711.gpio_io import GpioIO


def _chip(values, sps=80, gain=128):
    clock = Clock()
    io = FakeChipIO(lambda i: values[i % len(values)], clock.ticks_us, sps=sps)
    return clock, io, HX711(io, gain, sps, clock.ticks_ms(), ticks_diff)


def _collect(clock, chip, ms):
    out = []
    for _ in range(ms):
        clock.advance(1)
        v = chip.poll(clock.ticks_ms())
        if v is not None:
            out.append(v)
    return out


def test_signed_conversion():
    assert_equal(to_signed24(0x7FFFFF), 8388607)
    assert_equal(to_signed24(0x800000), -8388608)
    assert_equal(to_signed24(0xFFFFFF), -1)
    assert_equal(to_signed24(0), 0)


def test_rate_and_settling():
    clock, io, chip = _chip([10, -20, 30, -40, 50, -60])
    got = _collect(clock, chip, 1000)
    # 80 conversions a second, the first 4 discarded while the output settles
    assert_equal(len(got), 80 - 4, "samples in one second")
    assert_equal(got[:4], [50, -60, 10, -20], "first values after settling")


def test_gain_sets_pulses():
    _, io, _ = _chip([1], gain=64)
    assert_equal(io.pulses, 27)
    _, io, _ = _chip([1], gain=32)
    assert_equal(io.pulses, 26)
    assert_raises(ValueError, HX711, io, 100, 80, 0, ticks_diff)


def test_silent_chip_is_reported_not_waited_for():
    clock, io, chip = _chip([5])
    _collect(clock, chip, 100)
    io.silent = True
    assert not chip.silent(clock.ticks_ms())
    got = _collect(clock, chip, 200)
    assert_equal(got, [], "no samples from a silent chip")
    assert chip.silent(clock.ticks_ms())
    io.silent = False
    got = _collect(clock, chip, 100)
    assert got, "samples again after the chip came back"
    assert not chip.silent(clock.ticks_ms())


def test_stuck_data_line_raises():
    clock, io, chip = _chip([5])
    io.stuck_low = True
    assert_raises(ChipError, chip.poll, clock.ticks_ms())


def test_power_down_and_up():
    clock, io, chip = _chip([7])
    chip.power_down()
    assert not io.powered
    assert_equal(_collect(clock, chip, 500), [], "nothing while powered down")
    assert not chip.silent(clock.ticks_ms()), "a powered-down chip is not silent"
    chip.power_up(clock.ticks_ms())
    assert_equal(len(_collect(clock, chip, 1000)), 76, "settles again after power-up")


def test_set_rate():
    clock, io, chip = _chip([7])
    assert chip.set_rate(10, clock.ticks_ms())
    assert_equal(len(_collect(clock, chip, 2000)), 20 - 4, "10 samples/s")
    assert not chip.set_rate(40, clock.ticks_ms())
    io.can_set_rate = False
    assert not chip.set_rate(80, clock.ticks_ms())
    assert_equal(chip.sps, 10)


class _BitChip:
    """Models the HX711's two wires: DOUT low when a word is ready, one bit per PD_SCK rising edge."""

    def __init__(self, word, extra_high=True):
        self.word = word & 0xFFFFFF
        self.bit = 0
        self.clock_level = 0
        self.extra_high = extra_high
        self.irq_enabled = True
        self.pulses_with_irq_on = 0
        self.dout = 0

    def clock_value(self, v=None):
        if v is None:
            return self.clock_level
        if v and not self.clock_level:
            if self.irq_enabled:
                self.pulses_with_irq_on += 1
            if self.bit < 24:
                self.dout = (self.word >> (23 - self.bit)) & 1
            else:
                self.dout = 1 if self.extra_high else 0
            self.bit += 1
        self.clock_level = v
        return None

    def data_value(self, v=None):
        return self.dout


class _Pin:
    def __init__(self, fn):
        self.value = fn


def test_gpio_io_clocks_out_a_word_with_interrupts_off():
    chip = _BitChip(0xABCDEF)
    calls = []

    def irq_off():
        chip.irq_enabled = False
        calls.append("off")
        return 7

    def irq_on(state):
        assert_equal(state, 7, "irq state restored")
        chip.irq_enabled = True
        calls.append("on")

    io = GpioIO(_Pin(chip.clock_value), _Pin(chip.data_value), irq_off=irq_off, irq_on=irq_on)
    io.start(25)
    assert io.ready()
    assert_equal(io.read_raw(), 0xABCDEF, "word")
    assert_equal(chip.bit, 25, "pulses")
    assert_equal(chip.pulses_with_irq_on, 0, "pulses while interrupts were on")
    assert_equal(calls, ["off", "on"], "one critical section per word")
    assert not io.ready(), "DOUT high after the 25th pulse"


def test_gpio_io_detects_a_stuck_line():
    chip = _BitChip(0, extra_high=False)
    io = GpioIO(_Pin(chip.clock_value), _Pin(chip.data_value), irq_off=lambda: 0, irq_on=lambda s: None)
    io.start(27)
    assert_raises(ChipError, io.read_raw)
