"""The one-shot marker that boots a board to the MicroPython REPL (PROTOCOL.md, Maintenance).

A board whose watchdog cannot be stopped (RP2040, ESP32) cannot stay at the REPL after MAINTENANCE:
the watchdog would reset it within seconds. So the firmware writes this marker and resets; main.py
calls `take()` first thing at boot and, when the marker was there, returns without starting the
firmware or the watchdog. `take()` removes the marker, so the next reset runs the firmware again.
"""

import os

MARKER = "scale_maintenance"  # relative to the filesystem root, where main.py runs


def request(path=MARKER):
    """Leaves the marker for the next boot. Returns False when it cannot be written."""
    try:
        with open(path, "w") as f:
            f.write("boot to the REPL once (scale firmware MAINTENANCE)\n")
    except OSError:
        return False
    return True


def take(path=MARKER):
    """True once after request(): the marker is removed as it is read."""
    try:
        os.remove(path)
    except OSError:
        return False
    return True
