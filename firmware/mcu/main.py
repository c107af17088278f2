"""Scale MCU entry point (runs at boot on the board): build the board's chip and port, run the app,
and reset the MCU when the Pi asks for a reboot.

MAINTENANCE (PROTOCOL.md) hands the board to the REPL for a firmware update. The watchdog, once
started, cannot be stopped, so the firmware leaves a one-shot marker and resets; at that next boot
this file finds the marker and returns before starting anything, and the board stays at the REPL
(Ctrl-C on) until mpremote resets it.
"""

import time

import machine
import micropython

from scale_mcu import board, maintenance
from scale_mcu.app import App
from scale_mcu.commands import LEAVE_MAINTENANCE
from scale_mcu.watchdog import Watchdog


def main():
    chip, port = board.build()
    app = App(
        chip,
        port,
        board.BOARD,
        Watchdog(board.WATCHDOG_MS),
        time.ticks_ms,
        time.ticks_diff,
        machine.reset,
        sleep_ms=time.sleep_ms,
    )
    if app.run() == LEAVE_MAINTENANCE:
        # Ctrl-C stays off until the reset: a KeyboardInterrupt from mpremote before the marker is
        # written would leave the board at the REPL with the watchdog running, reset within seconds.
        maintenance.request()  # if the marker cannot be written, the board boots the firmware again
        machine.reset()


if maintenance.take():
    micropython.kbd_intr(3)  # the REPL's default, stated: mpremote interrupts with Ctrl-C
else:
    main()
