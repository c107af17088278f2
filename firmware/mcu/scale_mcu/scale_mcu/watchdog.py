"""Hardware watchdog wrapper: resets the MCU when the main loop stops feeding it (a hung driver, a
stuck USB write). On ports without machine.WDT (the unix port) it only counts feeds; there the
emulator restarts a dead firmware process instead."""


class Watchdog:
    def __init__(self, timeout_ms=2000, wdt=None):
        self.timeout_ms = timeout_ms
        self.feeds = 0
        if wdt is None:
            try:
                from machine import WDT
            except ImportError:
                WDT = None
            if WDT is not None:
                wdt = WDT(timeout=timeout_ms)
        self.wdt = wdt

    def feed(self):
        self.feeds += 1
        if self.wdt is not None:
            self.wdt.feed()
