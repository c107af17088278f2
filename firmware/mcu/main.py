"""Scale MCU entry point (runs at boot on the board): build the board's chip and port, run the app,
and reset the MCU when the Pi asks for a reboot."""

import time

import machine

from scale_mcu import board
from scale_mcu.app import App
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
    app.run()


main()
