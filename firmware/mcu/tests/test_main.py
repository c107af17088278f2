"""The board entry point (firmware/mcu/main.py) with stand-ins for `machine` and the board wiring:
a MAINTENANCE leaves the marker and resets; the next boot stays at the REPL, the one after runs."""

import os
import sys
import time

from support import HERE, Clock, RecordingPort, assert_equal, ticks_diff

from hx711 import HX711
from hx711.fake_io import FakeChipIO
from scale_mcu import app, commands, frames, maintenance, watchdog  # noqa: F401 (imported before chdir)

MAIN = HERE + "/../main.py"


class _Reset(Exception):
    pass


class _Machine:
    def __init__(self):
        self.resets = 0

    def reset(self):
        self.resets += 1
        raise _Reset()  # machine.reset() never returns


class _Board:
    BOARD = "stand-in"
    WATCHDOG_MS = 2000

    def __init__(self, commands):
        self.commands = commands
        self.builds = 0

    def build(self):
        self.builds += 1
        clock = Clock()
        io = FakeChipIO(lambda i: i, clock.ticks_us, sps=80)
        port = RecordingPort()
        port.incoming.extend(self.commands)
        self.port = port
        return HX711(io, 128, 80, clock.ticks_ms(), ticks_diff), port


def _main_source():
    with open(MAIN) as f:
        return f.read()


def _boot(code, board, machine):
    import scale_mcu

    sys.modules["machine"] = machine
    sys.modules["scale_mcu.board"] = board
    saved = getattr(scale_mcu, "board", None)
    scale_mcu.board = board
    try:
        exec(code, {"__name__": "__main__"})
    except _Reset:
        pass
    finally:
        del sys.modules["machine"]
        del sys.modules["scale_mcu.board"]
        if saved is None:
            del scale_mcu.board
        else:
            scale_mcu.board = saved


def test_maintenance_boots_to_the_repl_once():
    code = _main_source()
    here = os.getcwd()
    tmp = "/tmp/scale_main_test_%d" % time.ticks_us()
    try:
        os.mkdir(tmp)
    except OSError:
        pass
    os.chdir(tmp)
    try:
        maintenance.take()
        machine = _Machine()
        board = _Board(frames.encode_frame(frames.T_MAINTENANCE, b"\x05"))
        _boot(code, board, machine)  # runs the firmware until MAINTENANCE, on real time (~50 ms)
        assert_equal((board.builds, machine.resets), (1, 1), "firmware ran, then reset")
        assert_equal(board.port.take_frames()[-1], (frames.T_ACK, bytes((5, 0x16, 0))), "acked")
        board2 = _Board(b"")
        _boot(code, board2, machine)
        assert_equal((board2.builds, machine.resets), (0, 1), "maintenance boot: nothing started")
        assert_equal(maintenance.take(), False, "marker consumed")
    finally:
        os.chdir(here)
        os.rmdir(tmp)
