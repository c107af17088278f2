"""The firmware main loop with a fake chip and a recording port: batches, sequence, status, commands."""

from support import Clock, RecordingPort, assert_equal, samples_of, ticks_diff

from hx711 import HX711
from hx711.fake_io import FakeChipIO
from scale_mcu import frames
from scale_mcu.app import App
from scale_mcu.watchdog import Watchdog


class _Wdt:
    def __init__(self):
        self.fed = 0

    def feed(self):
        self.fed += 1


def _app(sps=80):
    clock = Clock()
    io = FakeChipIO(lambda i: 1000 + i, clock.ticks_us, sps=sps)
    chip = HX711(io, 128, sps, clock.ticks_ms(), ticks_diff)
    port = RecordingPort()
    resets = []
    wdt = _Wdt()
    app = App(chip, port, "test-board", Watchdog(2000, wdt), clock.ticks_ms, ticks_diff, lambda: resets.append(1))
    return clock, io, port, app, resets, wdt


def _run(clock, app, ms):
    alive = True
    for _ in range(ms):
        clock.advance(1)
        alive = app.step() and alive
    return alive


def _command(port, t, token, args=b""):
    port.incoming.extend(frames.encode_frame(t, bytes((token,)) + args))


def test_boot_status_then_batches_of_eight_with_consecutive_sequence():
    clock, io, port, app, _, wdt = _app()
    _run(clock, app, 2000)
    got = port.take_frames()
    assert_equal(got[0], (frames.T_STATUS, bytes((0, 80, 0, 0, 1))), "boot status")
    batches = [samples_of(p) for t, p in got[1:]]
    assert all(t == frames.T_SAMPLES for t, _ in got[1:])
    assert all(len(v) == 8 for _, v in batches), "8 samples a frame at 80 sps"
    expected = 0
    values = []
    for seq, v in batches:
        assert_equal(seq, expected, "sequence")
        expected += len(v)
        values.extend(v)
    assert_equal(values, list(range(1004, 1004 + len(values))), "values in order, settling discarded")
    assert len(values) >= 150
    assert_equal(wdt.fed, 2000, "watchdog fed every pass")


def test_ten_sps_sends_every_sample_at_once():
    clock, io, port, app, _, _ = _app(sps=10)
    _run(clock, app, 2000)
    batches = [samples_of(p) for t, p in port.take_frames() if t == frames.T_SAMPLES]
    assert batches and all(len(v) == 1 for _, v in batches)


def test_silent_chip_reported_with_heartbeat_and_recovery():
    clock, io, port, app, _, _ = _app()
    _run(clock, app, 500)
    port.take_frames()
    io.silent = True
    _run(clock, app, 2500)
    statuses = [p for t, p in port.take_frames() if t == frames.T_STATUS]
    assert_equal(statuses[0][0], 1, "chip silent state")
    assert_equal(statuses[0][4], 0, "cause: change")
    assert len(statuses) >= 3 and all(s[4] == 2 for s in statuses[1:]), "heartbeats while silent"
    io.silent = False
    _run(clock, app, 500)
    got = port.take_frames()
    assert_equal(got[0][0], frames.T_STATUS, "status first")
    assert_equal(got[0][1][0], 0, "back to sampling")
    assert any(t == frames.T_SAMPLES for t, _ in got)


def test_stuck_line_is_a_chip_fault():
    clock, io, port, app, _, _ = _app()
    _run(clock, app, 200)
    port.take_frames()
    io.stuck_low = True
    assert _run(clock, app, 100), "the loop keeps running"
    statuses = [p for t, p in port.take_frames() if t == frames.T_STATUS]
    assert_equal(statuses[0][0], 3, "chip fault")


def _acks(port):
    return [p for t, p in port.take_frames() if t == frames.T_ACK]


def test_identify_reports_versions_and_next_sequence():
    clock, io, port, app, _, _ = _app()
    _run(clock, app, 300)
    _command(port, frames.T_IDENTIFY, 1)
    _run(clock, app, 1)
    got = port.take_frames()
    assert_equal(got[-1][0], frames.T_ACK, "ack last")
    sent = sum(len(samples_of(p)[1]) for t, p in got if t == frames.T_SAMPLES)
    ack = [p for t, p in got if t == frames.T_ACK][0]
    assert_equal(ack[:3], bytes((1, 0x10, 0)), "ack header")
    assert_equal(ack[3], 1, "protocol version")
    assert_equal(ack[7], 80, "sps")
    assert_equal(ack[9], 128, "gain")
    assert_equal(ack[10] | (ack[11] << 8), app.sampler.next_seq, "next_seq")
    assert_equal(ack[12:], b"test-board", "board")
    assert sent == app.sampler.next_seq, "identify flushes the pending batch first"


def test_resent_command_is_answered_but_not_executed_twice():
    clock, io, port, app, _, _ = _app()
    _run(clock, app, 100)
    port.take_frames()
    _command(port, frames.T_POWER_DOWN, 5)
    _command(port, frames.T_POWER_DOWN, 5)
    _run(clock, app, 1)
    acks = _acks(port)
    assert_equal(len(acks), 2, "both answered")
    assert_equal(acks[0], acks[1], "same ack")
    assert_equal(app.commands.executed, 1, "executed once")
    assert not io.powered
    _command(port, frames.T_POWER_UP, 6)
    _run(clock, app, 1000)
    assert io.powered
    assert_equal(app.commands.executed, 2)


def test_set_rate_ping_and_errors():
    clock, io, port, app, _, _ = _app()
    _command(port, frames.T_SET_RATE, 1, b"\x0a")
    _command(port, frames.T_SET_RATE, 2, b"\x07")
    _command(port, frames.T_PING, 3, b"hello")
    _command(port, 0x3E, 4)
    _command(port, frames.T_POWER_UP, 5, b"\x00")
    _command(port, frames.T_PING, 6, bytes(17))
    _run(clock, app, 3)
    acks = _acks(port)
    assert_equal(acks[0], bytes((1, 0x12, 0, 10)), "rate set to 10")
    assert_equal(acks[1], bytes((2, 0x12, 1)), "bad rate refused")
    assert_equal(acks[2], bytes((3, 0x11, 0)) + b"hello", "ping echoes")
    assert_equal(acks[3], bytes((4, 0x3E, 2)), "unknown command")
    assert_equal(acks[4], bytes((5, 0x14, 3)), "bad length")
    assert_equal(acks[5], bytes((6, 0x11, 3)), "ping too long")
    assert_equal(io.sps, 10)


def test_reboot_acks_then_resets():
    clock, io, port, app, resets, _ = _app()
    _command(port, frames.T_REBOOT, 9)
    assert app.step()
    assert_equal(_acks(port), [bytes((9, 0x15, 0))], "acked")
    assert_equal(resets, [], "not yet")
    alive = _run(clock, app, 60)
    assert not alive, "loop ends ~50 ms after the ack"


def test_maintenance_acks_stops_sampling_and_hands_the_port_back():
    clock, io, port, app, resets, wdt = _app()
    _run(clock, app, 305)  # some samples taken but not yet sent
    assert app.sampler.batch, "a batch is held"
    _command(port, frames.T_MAINTENANCE, 7)
    assert app.step()
    got = port.take_frames()
    assert_equal(got[-1], (frames.T_ACK, bytes((7, 0x16, 0))), "acked last")
    sent = sum(len(samples_of(p)[1]) for t, p in got if t == frames.T_SAMPLES)
    assert_equal(sent, app.sampler.next_seq, "the held batch goes out before the ack")
    taken = app.sampler.samples_taken
    _run(clock, app, 20)
    _command(port, frames.T_MAINTENANCE, 7)  # its ack was lost: resent, answered again
    assert app.step()
    assert_equal(port.take_frames(), [(frames.T_ACK, bytes((7, 0x16, 0)))], "only the stored ack after it")
    assert_equal(app.commands.executed, 1, "executed once")
    assert_equal(app.sampler.samples_taken, taken, "sampling stopped")
    assert io.powered, "chip still powered while answering resends"
    port.closed = False
    clock_ticks = []

    def sleep_ms(ms):
        clock_ticks.append(ms)
        clock.advance(ms)

    app.sleep_ms = sleep_ms
    fed = wdt.fed
    assert_equal(app.run(), 2, "run returns LEAVE_MAINTENANCE")
    assert 25 <= len(clock_ticks) <= 35, "ends ~50 ms after the ack"
    assert_equal(port.take_frames(), [], "nothing sent after the ack")
    assert not io.powered, "chip powered down"
    assert_equal(port.released, 0, "Ctrl-C stays off until the caller is ready")
    app.release_port()
    assert_equal(port.released, 1, "port handed back to the REPL")
    assert_equal(resets, [], "no reset: the caller hands the board to the REPL")
    assert_equal(wdt.fed - fed, len(clock_ticks) + 1, "watchdog fed while waiting")


def test_maintenance_with_arguments_is_refused_and_sampling_goes_on():
    clock, io, port, app, resets, _ = _app()
    _command(port, frames.T_MAINTENANCE, 3, b"\x01")
    assert _run(clock, app, 300)
    got = port.take_frames()
    assert_equal([p for t, p in got if t == frames.T_ACK], [bytes((3, 0x16, 3))], "bad length")
    assert any(t == frames.T_SAMPLES for t, _ in got), "still sampling"
    assert_equal(app.leave, None)


def test_commands_after_maintenance_go_unanswered():
    clock, io, port, app, resets, _ = _app()
    _command(port, frames.T_MAINTENANCE, 1)
    _command(port, frames.T_REBOOT, 2)
    _command(port, frames.T_IDENTIFY, 3)
    _command(port, frames.T_MAINTENANCE, 1)
    _run(clock, app, 60)
    acks = _acks(port)
    assert_equal(acks, [bytes((1, 0x16, 0)), bytes((1, 0x16, 0))], "only MAINTENANCE, twice")
    assert_equal(app.commands.executed, 1, "nothing else executed")
    assert_equal(app.run(), 2, "still maintenance")
    assert_equal(resets, [])
