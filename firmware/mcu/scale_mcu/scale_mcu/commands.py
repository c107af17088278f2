"""Executes the Pi's commands (PROTOCOL.md, Pi -> MCU) and builds their ACKs.

The last (type, token) pair and its ACK are kept: a resent command, whose first ACK was lost, gets
the stored ACK again without being executed twice. REBOOT and MAINTENANCE are carried out by the
app after their ACK has gone out: the handler only tells it, through `request_leave(how)`.
"""

from micropython import const

from scale_mcu import FIRMWARE_VERSION, PROTOCOL_VERSION, frames

OK = const(0)
BAD_ARGUMENT = const(1)
UNKNOWN_COMMAND = const(2)
BAD_LENGTH = const(3)

MAX_PING_BYTES = const(16)

LEAVE_REBOOT = const(1)  # reset the MCU
LEAVE_MAINTENANCE = const(2)  # hand the board to the MicroPython REPL (PROTOCOL.md, Maintenance)


class CommandHandler:
    def __init__(self, sampler, board, request_leave, channels=1):
        self.sampler = sampler
        self.board = board.encode()[:32] if isinstance(board, str) else bytes(board[:32])
        self.request_leave = request_leave  # called with LEAVE_* when REBOOT or MAINTENANCE is acked
        self.channels = channels
        self.last_key = None
        self.last_ack = None
        self.executed = 0
        self.repeated = 0

    def handle(self, msg_type, token, args, now_ms):
        """Returns the ACK frame for one decoded command."""
        key = (msg_type, token)
        if key == self.last_key:
            self.repeated += 1
            return self.last_ack
        result, data = self._execute(msg_type, args, now_ms)
        ack = frames.encode_ack(token, msg_type, result, data)
        self.executed += 1
        self.last_key = key
        self.last_ack = ack
        if result == OK and msg_type == frames.T_REBOOT:
            self.request_leave(LEAVE_REBOOT)
        elif result == OK and msg_type == frames.T_MAINTENANCE:
            self.request_leave(LEAVE_MAINTENANCE)
        return ack

    def identity(self):
        chip = self.sampler.chip
        seq = self.sampler.next_seq
        major, minor, patch = FIRMWARE_VERSION
        head = bytes(
            (PROTOCOL_VERSION, major, minor, patch, chip.sps, self.channels, chip.gain, seq & 0xFF, seq >> 8)
        )
        return head + self.board

    def _execute(self, msg_type, args, now_ms):
        n = len(args)
        if msg_type == frames.T_IDENTIFY:
            if n:
                return BAD_LENGTH, b""
            self.sampler.flush()
            return OK, self.identity()
        if msg_type == frames.T_PING:
            if n > MAX_PING_BYTES:
                return BAD_LENGTH, b""
            return OK, args
        if msg_type == frames.T_SET_RATE:
            if n != 1:
                return BAD_LENGTH, b""
            if not self.sampler.set_rate(args[0], now_ms):
                return BAD_ARGUMENT, b""
            return OK, bytes((self.sampler.chip.sps,))
        if msg_type in (frames.T_POWER_DOWN, frames.T_POWER_UP, frames.T_REBOOT, frames.T_MAINTENANCE):
            if n:
                return BAD_LENGTH, b""
            if msg_type == frames.T_POWER_DOWN:
                self.sampler.power_down(now_ms)
            elif msg_type == frames.T_POWER_UP:
                self.sampler.power_up(now_ms)
            elif msg_type == frames.T_MAINTENANCE:
                self.sampler.flush()  # the samples taken so far go out before the ACK, none after it
            return OK, b""
        return UNKNOWN_COMMAND, b""
