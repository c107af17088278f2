"""The firmware's main loop: read commands, poll the sampler, send frames, feed the watchdog.

Nothing in the loop blocks; each pass takes well under a millisecond, so the 12.5 ms period of the
HX711 at 80 samples/s is never missed. `step()` is one pass (tests drive it with a fake clock);
`run()` loops until a REBOOT was acknowledged, then calls `reset()`.
"""

from scale_mcu import frames
from scale_mcu.commands import CommandHandler
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
        self.commands = CommandHandler(self.sampler, board, self._request_reset)
        self.reset_at = None
        self.frames_sent = 0
        self.sampler.send_status(CAUSE_BOOT, now)

    def _send(self, frame):
        self.port.write(frame)
        self.frames_sent += 1

    def _request_reset(self):
        self.reset_at = self.ticks_ms()

    def step(self):
        now = self.ticks_ms()
        data = self.port.read_available()
        if data:
            for msg_type, token, args in self.decoder.feed(data):
                self._send(self.commands.handle(msg_type, token, args, now))
        self.sampler.poll(now)
        self.port.flush()
        self.watchdog.feed()
        return self.reset_at is None or self.diff(now, self.reset_at) < RESET_DELAY_MS

    def run(self):
        while self.step() and not self.port.closed:
            if self.sleep_ms is not None:
                self.sleep_ms(1)
        self.port.flush()
        self.reset()
