"""Byte streams the link runs over: USB CDC through stdio (REPL Ctrl-C disabled), or a machine.UART.

Both offer read_available() -> bytes (never blocks), write(frame), flush() and release(), which gives
the line back to the MicroPython REPL (MAINTENANCE)."""

import select
import sys


class StdioPort:
    def __init__(self, stdin=None, stdout=None):
        self.stdin = stdin or sys.stdin.buffer
        self.stdout = stdout or sys.stdout.buffer
        self.poller = select.poll()
        self.poller.register(self.stdin, select.POLLIN)
        self.closed = False
        try:
            import micropython

            micropython.kbd_intr(-1)  # a 0x03 byte inside a frame must not raise KeyboardInterrupt
        except (ImportError, AttributeError):
            pass

    def read_available(self, limit=64):
        data = bytearray()
        while len(data) < limit:
            events = self.poller.poll(0)
            if not events:
                break
            if events[0][1] & (select.POLLHUP | select.POLLERR) and not events[0][1] & select.POLLIN:
                self.closed = True
                break
            chunk = self.stdin.read(1)
            if not chunk:
                self.closed = True
                break
            data.extend(chunk)
        return bytes(data)

    def write(self, frame):
        self.stdout.write(frame)

    def flush(self):
        if hasattr(self.stdout, "flush"):
            self.stdout.flush()

    def release(self):
        """Ctrl-C raises KeyboardInterrupt again, as the REPL (and mpremote) expects."""
        try:
            import micropython

            micropython.kbd_intr(3)
        except (ImportError, AttributeError):
            pass


class UartPort:
    def __init__(self, uart):
        self.uart = uart
        self.closed = False

    def read_available(self, limit=64):
        n = self.uart.any()
        if not n:
            return b""
        return self.uart.read(min(n, limit)) or b""

    def write(self, frame):
        self.uart.write(frame)

    def flush(self):
        pass

    def release(self):
        pass  # the REPL is on USB, never on this UART
