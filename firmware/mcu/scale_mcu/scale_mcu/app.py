"""The firmware's main loop: read commands, poll the sampler, send frames, feed the watchdog.

Nothing in the loop blocks; each pass takes well under a millisecond, so the 12.5 ms period of the
HX711 at 80 samples/s is never missed. `step()` is one pass (tests drive it with a fake clock).
`run()` loops until a REBOOT or MAINTENANCE was acknowledged (and for 50 ms more, to answer a resent
command with its stored ACK). After a REBOOT it calls `reset()`; after a MAINTENANCE it powers the
chip down and returns LEAVE_MAINTENANCE, and the caller hands the board to the REPL (main.py: a
marker and a reset; unix/emulate.py: `release_port()`, which turns Ctrl-C back on, and exit). Once a
MAINTENANCE is acknowledged the sampler is no longer polled and other commands go unanswered: only a
resent MAINTENANCE gets its stored ACK, so no command is acknowledged that will not be carried out.
"""

from scale_mcu import frames
from scale_mcu.commands import LEAVE_MAINTENANCE, LEAVE_REBOOT, CommandHandler
from scale_mcu.sampler import CAUSE_BOOT, Sampler

RESET_DELAY_MS = 50


class App:
    def __init__(self, chip, port, board, watchdog, ticks_ms, ticks_diff, reset, sleep_ms=None):
        self.port = port
        self.ticks_ms = ticks_ms
        self.diff = ticks_diff
        self.reset = reset
        self.sleep_ms = sleep_ms
        self.watchdog = watchdog
        now = ticks_ms()
        self.sampler = Sampler(chip, self._send, now, ticks_diff)
        self.decoder = frames.CommandDecoder()
        self.commands = CommandHandler(self.sampler, board, self._request_leave)
        self.leave = None  # LEAVE_REBOOT or LEAVE_MAINTENANCE once acknowledged
        self.reset_at = None  # when it was acknowledged
        self.frames_sent = 0
        self.sampler.send_status(CAUSE_BOOT, now)

    def _send(self, frame):
        self.port.write(frame)
        self.frames_sent += 1

    def _request_leave(self, how):
        if self.leave is None:
            self.leave = how
            self.reset_at = self.ticks_ms()

    def step(self):
        now = self.ticks_ms()
        data = self.port.read_available()
        if data:
            for msg_type, token, args in self.decoder.feed(data):
                if self.leave == LEAVE_MAINTENANCE and (msg_type, token) != self.commands.last_key:
                    continue  # leaving for the REPL: only a resent MAINTENANCE is answered
                self._send(self.commands.handle(msg_type, token, args, now))
        if self.leave != LEAVE_MAINTENANCE:
            self.sampler.poll(now)
        self.port.flush()
        self.watchdog.feed()
        return self.reset_at is None or self.diff(now, self.reset_at) < RESET_DELAY_MS

    def release_port(self):
        """Hands the line back to the REPL: Ctrl-C raises KeyboardInterrupt again."""
        release = getattr(self.port, "release", None)
        if release is not None:
            release()

    def run(self):
        while self.step() and not self.port.closed:
            if self.sleep_ms is not None:
                self.sleep_ms(1)
        self.port.flush()
        if self.leave == LEAVE_MAINTENANCE:
            self.sampler.chip.power_down()
            return LEAVE_MAINTENANCE
        self.reset()
        return LEAVE_REBOOT
