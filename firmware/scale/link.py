"""The Pi end of the scale link over pyserial: open a device path or a pyserial URL (`loop://`,
`socket://host:port`, `/dev/ttyACM0`), read and parse frames, send commands and wait for their
acknowledgement (resending with the same token), and check the MCU's protocol version.

It knows nothing about grams, events or reconnecting: SerialScaleSource (source.py) builds those
on top. Every serial failure surfaces as LinkLost, never as a hang: reads and writes have timeouts.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import serial

from firmware.scale.protocol import (
    PROTOCOL_VERSION,
    RATES_SPS,
    Ack,
    AckResult,
    FrameParser,
    Identity,
    Message,
    MsgType,
    ParserCounters,
    ProtocolError,
    decode_identity,
    encode_command,
)

READ_TIMEOUT_S = 0.02
WRITE_TIMEOUT_S = 0.5


class LinkLost(Exception):
    """The port failed, vanished or could not be opened."""


class ProtocolMismatch(Exception):
    """The MCU speaks another protocol version; it must be reflashed (or the cart updated)."""


class CommandFailed(Exception):
    """A command went unanswered after all its tries (`result` None), or the MCU refused it (`result`
    says why; UNKNOWN_COMMAND from firmware older than the command)."""

    def __init__(self, message: str, result: AckResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def open_serial(port: str, baudrate: int = 115200) -> Any:
    """pyserial port for a device path or URL; read/write never block longer than their timeouts."""
    return serial.serial_for_url(port, baudrate=baudrate, timeout=READ_TIMEOUT_S, write_timeout=WRITE_TIMEOUT_S)


class ScaleLink:
    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        retry_interval_s: float = 0.25,
        tries: int = 4,
        serial_factory: Callable[..., Any] = open_serial,
        wait_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.retry_interval_s = retry_interval_s
        self.tries = tries
        self._factory = serial_factory
        self._wait_clock = wait_clock
        self._serial: Any = None
        self.counters = ParserCounters()
        self._parser = FrameParser(counters=self.counters)
        self._backlog: list[Message] = []
        self._token = 0
        self.resends = 0
        self.bytes_in = 0
        self.identity: Identity | None = None

    # --- port -----------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        self.close()
        try:
            self._serial = self._factory(self.port, self.baudrate)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkLost(f"cannot open {self.port}: {exc}") from None
        self._parser = FrameParser(counters=self.counters)
        self._backlog.clear()
        self.identity = None

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
            self._serial = None

    def write(self, data: bytes) -> None:
        if self._serial is None:
            raise LinkLost("port is not open")
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"write to {self.port} failed: {exc}") from None

    def _read_chunk(self) -> list[Message]:
        if self._serial is None:
            raise LinkLost("port is not open")
        try:
            waiting = self._serial.in_waiting
            data = self._serial.read(max(1, min(waiting, 4096)))
        except (serial.SerialException, OSError) as exc:
            raise LinkLost(f"read from {self.port} failed: {exc}") from None
        if not data:
            return self._parser.idle()
        self.bytes_in += len(data)
        return self._parser.feed(data)

    def read(self, timeout_s: float) -> list[Message]:
        """Messages received, waiting at most about `timeout_s` for the first one."""
        out, self._backlog = self._backlog, []
        deadline = self._wait_clock() + timeout_s
        while True:
            out.extend(self._read_chunk())
            if out or self._wait_clock() >= deadline:
                return out

    # --- commands -------------------------------------------------------------------------------

    def _next_token(self) -> int:
        self._token = self._token % 255 + 1
        return self._token

    def command(self, command: int, args: bytes = b"", *, drop_before: bool = False) -> Ack:
        """Sends a command, resending the same frame until its ACK arrives. Other messages received
        meanwhile are kept for the next read() (with `drop_before`, those that came before the ACK
        are dropped instead). Raises CommandFailed or LinkLost."""
        token = self._next_token()
        frame = encode_command(command, token, args)
        name = MsgType(command).name if command in MsgType._value2member_map_ else f"0x{command:02x}"
        for attempt in range(self.tries):
            if attempt:
                self.resends += 1
            self.write(frame)
            deadline = self._wait_clock() + self.retry_interval_s
            while self._wait_clock() < deadline:
                messages = self._read_chunk()
                for i, message in enumerate(messages):
                    if isinstance(message, Ack) and message.token == token and message.command == command:
                        self._backlog.extend(messages[i + 1 :])
                        if message.result != AckResult.OK:
                            raise CommandFailed(f"MCU refused {name}: {message.result.name.lower()}", message.result)
                        return message
                    if not drop_before:
                        self._backlog.append(message)
        raise CommandFailed(f"no answer to {name} from {self.port} after {self.tries} tries")

    def identify(self) -> Identity:
        """IDENTIFY exchange; refuses another protocol version. Drops what arrived before the answer
        (stale frames from before the Pi was listening); keeps what came after it."""
        self._backlog.clear()
        ack = self.command(MsgType.IDENTIFY, drop_before=True)
        try:
            identity = decode_identity(ack.data)
        except ProtocolError as exc:
            raise CommandFailed(f"bad IDENTIFY answer: {exc}") from None
        if identity.protocol != PROTOCOL_VERSION:
            raise ProtocolMismatch(
                f"scale MCU on {self.port} speaks protocol version {identity.protocol} "
                f"(firmware {'.'.join(map(str, identity.firmware))}, board {identity.board!r}); "
                f"this cart speaks version {PROTOCOL_VERSION}. Flash matching MCU firmware "
                "(firmware/mcu) or update the cart software."
            )
        self.identity = identity
        return identity

    def set_rate(self, sps: int) -> int:
        if sps not in RATES_SPS:
            raise ValueError(f"the HX711 runs at {' or '.join(map(str, RATES_SPS))} samples/s, not {sps}")
        return self.command(MsgType.SET_RATE, bytes((sps,))).data[0]

    def ping(self, payload: bytes = b"") -> bytes:
        return self.command(MsgType.PING, payload).data

    def power_down(self) -> None:
        self.command(MsgType.POWER_DOWN)

    def power_up(self) -> None:
        self.command(MsgType.POWER_UP)

    def reboot(self) -> None:
        self.command(MsgType.REBOOT)

    def maintenance(self) -> None:
        """Asks the firmware to stop and hand the board to the MicroPython REPL (PROTOCOL.md,
        Maintenance), so that mpremote can take it; the port should be closed right after. Raises
        CommandFailed when nothing answers, or when the firmware is older than MAINTENANCE (it
        answers "unknown command")."""
        self.command(MsgType.MAINTENANCE)
