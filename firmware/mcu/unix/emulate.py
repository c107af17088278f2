"""The scale firmware on the MicroPython unix port, with a fake HX711 fed from a file of counts.

Run by `cartctl scale emulate` (firmware/scale/emulator.py), which bridges this process's stdin and
stdout to a pseudo-terminal. Usage:

    micropython emulate.py COUNTS_FILE TRACE_SPS [BOARD]

COUNTS_FILE holds signed 32-bit little-endian counts sampled at TRACE_SPS; the fake chip plays them
at its own rate, looping at the end. The chip starts at the trace's rate when that is 10 or 80
samples/s (else 80) and follows SET_RATE from the Pi. A REBOOT command ends
the process with exit status 75; the bridge starts it again, as the board's reset would. A
MAINTENANCE command ends it with exit status 76 after the app has stopped sampling and turned
Ctrl-C back on: the board is now at its REPL, and the bridge keeps the line there (no restart)
until a soft reset (Ctrl-D).
"""

import struct
import sys
import time

from hx711 import HX711
from hx711.fake_io import FakeChipIO
from scale_mcu.app import App
from scale_mcu.commands import LEAVE_MAINTENANCE
from scale_mcu.ports import StdioPort
from scale_mcu.watchdog import Watchdog

REBOOT_EXIT = 75
MAINTENANCE_EXIT = 76


def load_counts(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = len(raw) // 4
    if n == 0:
        raise ValueError("no counts in " + path)
    return [struct.unpack_from("<i", raw, 4 * i)[0] for i in range(n)]


def main():
    counts = load_counts(sys.argv[1])
    trace_sps = float(sys.argv[2])
    board = sys.argv[3] if len(sys.argv) > 3 else "unix-emulator"
    state = {"pos": 0.0}
    io = None

    def source(_index):
        i = int(state["pos"]) % len(counts)
        state["pos"] += trace_sps / io.sps
        return counts[i]

    chip_sps = int(trace_sps) if trace_sps in (10.0, 80.0) else 80
    io = FakeChipIO(source, time.ticks_us, sps=chip_sps)
    chip = HX711(io, 128, chip_sps, time.ticks_ms(), time.ticks_diff)

    def reset():
        sys.exit(REBOOT_EXIT)

    app = App(chip, StdioPort(), board, Watchdog(), time.ticks_ms, time.ticks_diff, reset, time.sleep_ms)
    if app.run() == LEAVE_MAINTENANCE:
        app.release_port()  # no watchdog on this port: the firmware can leave for the REPL directly
        sys.exit(MAINTENANCE_EXIT)


main()
