"""An in-process fake scale MCU speaking PROTOCOL.md through the Pi codec, served on a pseudo-terminal
from a thread. It plugs in at the transport seam, like the emulator, but starts in milliseconds and
lets a test do what real hardware does badly on purpose: pull the cable (`unplug`/`replug`), skip
batches, answer with another protocol version, go silent, send garbage.

The emulator (emulator.py) runs the real firmware instead; use it where the firmware itself matters.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from firmware.scale import protocol as p


class FakeMcu:
    def __init__(
        self,
        counts_at: Callable[[int], int] = lambda seq: 50_000,
        *,
        protocol: int = p.PROTOCOL_VERSION,
        sps: int = 80,
        board: str = "fake-mcu",
    ) -> None:
        self.counts_at = counts_at
        self.protocol = protocol
        self.sps = sps
        self.board = board
        self.next_seq = 0
        self.powered = True
        self.silent = False
        self.skip_batches = 0  # this many coming batches are taken but never sent (a gap)
        self.garbage = b""  # sent once, before the next batch
        self.answer_commands = True
        self.commands: list[p.Command] = []
        self.sent_samples: dict[int, int] = {}  # seq -> count, every sample put on the wire
        self._parser = p.FrameParser(accept=p.COMMAND_TYPES)
        self._last: tuple[tuple[int, int], bytes] | None = None

    def receive(self, data: bytes) -> bytes:
        """Bytes from the Pi in, ACK frames out."""
        return self._answer(self._parser.feed(data))

    def idle(self) -> bytes:
        """Nothing came from the Pi for a moment (see FrameParser.idle)."""
        return self._answer(self._parser.idle())

    def _answer(self, commands: list[p.Message]) -> bytes:
        out = b""
        for command in commands:
            assert isinstance(command, p.Command)
            self.commands.append(command)
            if not self.answer_commands:
                continue
            key = (command.command, command.token)
            if self._last is not None and self._last[0] == key:
                out += self._last[1]
                continue
            ack = p.encode_ack(command.token, command.command, *self._execute(command))
            self._last = (key, ack)
            out += ack
        return out

    def _execute(self, command: p.Command) -> tuple[int, bytes]:
        if command.command == p.MsgType.IDENTIFY:
            identity = p.Identity(self.protocol, (9, 9, 9), self.sps, 1, 128, self.next_seq, self.board)
            return p.AckResult.OK, p.encode_identity(identity)
        if command.command == p.MsgType.PING:
            return p.AckResult.OK, command.args
        if command.command == p.MsgType.SET_RATE:
            if len(command.args) != 1 or command.args[0] not in p.RATES_SPS:
                return p.AckResult.BAD_ARGUMENT, b""
            self.sps = command.args[0]
            return p.AckResult.OK, command.args
        if command.command == p.MsgType.POWER_DOWN:
            self.powered = False
            return p.AckResult.OK, b""
        if command.command == p.MsgType.POWER_UP:
            self.powered = True
            return p.AckResult.OK, b""
        if command.command == p.MsgType.REBOOT:
            return p.AckResult.OK, b""
        return p.AckResult.UNKNOWN_COMMAND, b""

    def batch_size(self) -> int:
        return max(1, self.sps // 10)

    def tick(self) -> bytes:
        """What the MCU sends in one 100 ms batch window."""
        if self.silent:
            return p.encode_status(p.ChipState.CHIP_SILENT, self.sps, self.next_seq, p.StatusCause.HEARTBEAT)
        if not self.powered:
            return p.encode_status(p.ChipState.POWERED_DOWN, self.sps, self.next_seq, p.StatusCause.HEARTBEAT)
        n = self.batch_size()
        seq = self.next_seq
        counts = [self.counts_at((seq + i) & 0xFFFF) for i in range(n)]
        self.next_seq = (seq + n) & 0xFFFF
        out, self.garbage = self.garbage, b""
        if self.skip_batches:
            self.skip_batches -= 1
            return out
        for i, count in enumerate(counts):
            self.sent_samples[(seq + i) & 0xFFFF] = count
        return out + p.encode_samples(seq, counts)


class PtyFakeMcu:
    """Serves a FakeMcu on a pty whose slave end a symlink at `link_path` points to."""

    def __init__(self, link_path: str | Path, mcu: FakeMcu | None = None, batch_interval_s: float = 0.1) -> None:
        self.link_path = Path(link_path)
        self.mcu = mcu or FakeMcu()
        self.batch_interval_s = batch_interval_s
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lock = threading.Lock()  # hold it to change the FakeMcu while it runs

    def plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        tmp = self.link_path.with_name(self.link_path.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(os.ttyname(self._slave))
        os.replace(tmp, self.link_path)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="fake-mcu", daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """The cable is pulled: the pty goes away (the Pi's reads fail) and so does the path."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with contextlib.suppress(FileNotFoundError):
            self.link_path.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    replug = plug

    def _serve(self) -> None:
        next_batch = time.monotonic()
        while not self._stop.is_set():
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, OSError):
                data = b""
            with self.lock:
                out = self.mcu.receive(data) if data else self.mcu.idle()
                if time.monotonic() >= next_batch:
                    out += self.mcu.tick()
                    next_batch += self.batch_interval_s
            if out:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(self._master, out)
            self._stop.wait(0.002)

    def __enter__(self) -> PtyFakeMcu:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.unplug()
