"""Pi-side codec for the scale link (firmware/protocol/PROTOCOL.md): frames, CRC, message types, the
streaming frame parser that resynchronises after garbage, and the sample-sequence tracker that counts
gaps and drops duplicates.

Pure: no I/O, no clock. The MicroPython side has its own implementation of the same document
(firmware/mcu/scale_mcu/); both are checked against firmware/protocol/vectors.json.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

PROTOCOL_VERSION: Final = 1
SYNC: Final = b"\xa5\x5a"
MAX_PAYLOAD: Final = 120
HEADER_LEN: Final = 4
CRC_LEN: Final = 2
MAX_BATCH: Final = 32
MAX_PING_BYTES: Final = 16
MAX_BOARD_BYTES: Final = 32
SAMPLE_MIN: Final = -(1 << 23)
SAMPLE_MAX: Final = (1 << 23) - 1
RATES_SPS: Final = (10, 80)
MAX_GAP_SAMPLES: Final = 800
ADOPT_AFTER_BATCHES: Final = 3


class MsgType(IntEnum):
    SAMPLES = 0x01
    STATUS = 0x02
    ACK = 0x03
    IDENTIFY = 0x10
    PING = 0x11
    SET_RATE = 0x12
    POWER_DOWN = 0x13
    POWER_UP = 0x14
    REBOOT = 0x15
    MAINTENANCE = 0x16  # hand the board to the MicroPython REPL (firmware 1.1.0 and later)


MCU_TYPES: Final = frozenset({MsgType.SAMPLES, MsgType.STATUS, MsgType.ACK})
COMMAND_TYPES: Final = frozenset(range(0x10, 0x40))


class ChipState(IntEnum):
    SAMPLING = 0
    CHIP_SILENT = 1
    POWERED_DOWN = 2
    CHIP_FAULT = 3


class StatusCause(IntEnum):
    CHANGE = 0
    BOOT = 1
    HEARTBEAT = 2


class AckResult(IntEnum):
    OK = 0
    BAD_ARGUMENT = 1
    UNKNOWN_COMMAND = 2
    BAD_LENGTH = 3


class ProtocolError(ValueError):
    """A payload that does not follow PROTOCOL.md."""


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); binascii.crc_hqx is exactly this."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(msg_type: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((len(payload), msg_type)) + payload
    return SYNC + body + struct.pack("<H", crc16(body))


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Samples:
    seq: int
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Status:
    state: ChipState
    sps: int
    next_seq: int
    cause: StatusCause


@dataclass(frozen=True, slots=True)
class Ack:
    token: int
    command: int
    result: AckResult
    data: bytes = b""


@dataclass(frozen=True, slots=True)
class Identity:
    protocol: int
    firmware: tuple[int, int, int]
    sps: int
    channels: int
    gain: int
    next_seq: int
    board: str


@dataclass(frozen=True, slots=True)
class Command:
    command: int
    token: int
    args: bytes = b""


Message = Samples | Status | Ack | Command


def _pack_i24(value: int) -> bytes:
    if not SAMPLE_MIN <= value <= SAMPLE_MAX:
        raise ProtocolError(f"sample {value} outside the signed 24-bit range")
    return (value & 0xFFFFFF).to_bytes(3, "little")


def encode_samples(seq: int, counts: tuple[int, ...] | list[int]) -> bytes:
    if not 1 <= len(counts) <= MAX_BATCH:
        raise ProtocolError(f"a batch holds 1..{MAX_BATCH} samples, not {len(counts)}")
    payload = struct.pack("<HB", seq & 0xFFFF, len(counts)) + b"".join(_pack_i24(c) for c in counts)
    return encode_frame(MsgType.SAMPLES, payload)


def encode_status(state: int, sps: int, next_seq: int, cause: int) -> bytes:
    return encode_frame(MsgType.STATUS, struct.pack("<BBHB", state, sps, next_seq & 0xFFFF, cause))


def encode_ack(token: int, command: int, result: int, data: bytes = b"") -> bytes:
    return encode_frame(MsgType.ACK, bytes((token, command, result)) + data)


def encode_identity(identity: Identity) -> bytes:
    board = identity.board.encode("ascii")[:MAX_BOARD_BYTES]
    return (
        struct.pack(
            "<BBBBBBBH",
            identity.protocol,
            *identity.firmware,
            identity.sps,
            identity.channels,
            identity.gain,
            identity.next_seq & 0xFFFF,
        )
        + board
    )


def decode_identity(data: bytes) -> Identity:
    if len(data) < 9:
        raise ProtocolError(f"identity needs at least 9 bytes, got {len(data)}")
    protocol, major, minor, patch, sps, channels, gain, next_seq = struct.unpack_from("<BBBBBBBH", data)
    board = data[9:].decode("ascii", errors="replace")
    return Identity(protocol, (major, minor, patch), sps, channels, gain, next_seq, board)


def encode_command(command: int, token: int, args: bytes = b"") -> bytes:
    if not 1 <= token <= 255:
        raise ProtocolError(f"token must be 1..255, not {token}")
    return encode_frame(command, bytes((token,)) + args)


def length_ok(msg_type: int, length: int) -> bool:
    """Whether `length` is a possible payload length for `msg_type` (step 2 of resynchronising)."""
    if msg_type == MsgType.SAMPLES:
        return length >= 6 and (length - 3) % 3 == 0 and (length - 3) // 3 <= MAX_BATCH
    if msg_type == MsgType.STATUS:
        return length == 5
    if msg_type == MsgType.ACK:
        return length >= 3
    if msg_type in COMMAND_TYPES:
        return length >= 1
    return False


def decode_payload(msg_type: int, payload: bytes) -> Message:
    """Decode one CRC-checked payload; raises ProtocolError when its fields are inconsistent."""
    if not length_ok(msg_type, len(payload)):
        raise ProtocolError(f"type 0x{msg_type:02x} cannot have a {len(payload)}-byte payload")
    if msg_type == MsgType.SAMPLES:
        seq, n = struct.unpack_from("<HB", payload)
        if n == 0 or len(payload) != 3 + 3 * n:
            raise ProtocolError(f"sample count {n} does not match a {len(payload)}-byte payload")
        counts = tuple(int.from_bytes(payload[3 + 3 * i : 6 + 3 * i], "little", signed=True) for i in range(n))
        return Samples(seq, counts)
    if msg_type == MsgType.STATUS:
        state, sps, next_seq, cause = struct.unpack("<BBHB", payload)
        try:
            return Status(ChipState(state), sps, next_seq, StatusCause(cause))
        except ValueError as exc:
            raise ProtocolError(f"bad status field: {exc}") from None
    if msg_type == MsgType.ACK:
        try:
            result = AckResult(payload[2])
        except ValueError:
            raise ProtocolError(f"bad ack result {payload[2]}") from None
        return Ack(payload[0], payload[1], result, bytes(payload[3:]))
    if payload[0] == 0:
        raise ProtocolError("command token 0 is reserved")
    return Command(msg_type, payload[0], bytes(payload[1:]))


# --- streaming parser ---------------------------------------------------------------------------


@dataclass
class ParserCounters:
    frames: int = 0
    crc_errors: int = 0
    framing_errors: int = 0
    garbage_bytes: int = 0


@dataclass
class FrameParser:
    """Turns a byte stream into messages, resynchronising after garbage as PROTOCOL.md describes.

    `accept` is the set of types expected from the other end (MCU_TYPES on the Pi).
    """

    accept: frozenset[int] = MCU_TYPES
    counters: ParserCounters = field(default_factory=ParserCounters)
    _buf: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[Message]:
        """Bytes arrived (more may follow). A complete frame at the very end of the buffer is held
        until the next bytes show another frame starting right after it, or until idle()."""
        self._buf += data
        return self._parse(idle=False)

    def idle(self) -> list[Message]:
        """The line went quiet: release a held frame, and give up on an incomplete one (its length
        byte was corrupted, or its tail was lost), resynchronising on what follows it."""
        return self._parse(idle=True)

    def feed_all(self, data: bytes) -> list[Message]:
        """feed() then idle(): for a whole recorded stream."""
        return self.feed(data) + self.idle()

    def _parse(self, idle: bool) -> list[Message]:
        out: list[Message] = []
        buf = self._buf
        while buf:
            start = buf.find(SYNC)
            if start < 0:
                keep = 1 if buf[-1:] == SYNC[:1] and not idle else 0
                self.counters.garbage_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                break
            if start:
                self.counters.garbage_bytes += start
                del buf[:start]
            if len(buf) < HEADER_LEN:
                if idle:
                    self.counters.framing_errors += 1
                    self._skip_one()
                    continue
                break
            length, msg_type = buf[2], buf[3]
            if length > MAX_PAYLOAD or msg_type not in self.accept or not length_ok(msg_type, length):
                self.counters.framing_errors += 1
                self._skip_one()
                continue
            total = HEADER_LEN + length + CRC_LEN
            if len(buf) < total:
                if idle:
                    self.counters.framing_errors += 1
                    self._skip_one()
                    continue
                break
            body = bytes(buf[2 : HEADER_LEN + length])
            crc = buf[total - 2] | (buf[total - 1] << 8)
            if crc != crc16(body):
                self.counters.crc_errors += 1
                self._skip_one()
                continue
            after = bytes(buf[total : total + 2])
            if len(after) < 2 and not idle:
                break  # hold: is the next frame's sync right behind it?
            if after not in (SYNC, SYNC[:1], b""):
                # A frame that lost a byte borrows the next frame's first bytes; its CRC matches by
                # chance once in 65536. Such a frame is not followed by a sync: refuse it.
                self.counters.framing_errors += 1
                self._skip_one()
                continue
            try:
                message = decode_payload(msg_type, body[2:])
            except ProtocolError:
                self.counters.framing_errors += 1
                self._skip_one()
                continue
            del buf[:total]
            self.counters.frames += 1
            out.append(message)
        return out

    def _skip_one(self) -> None:
        del self._buf[:1]
        self.counters.garbage_bytes += 1

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)


# --- sample sequence ----------------------------------------------------------------------------


@dataclass
class SequenceTracker:
    """Applies the sequence rules of PROTOCOL.md: counts gaps, drops duplicates and implausible jumps."""

    expected: int | None = None
    gaps: int = 0
    duplicates: int = 0
    implausible: int = 0
    _stray: list[Samples] = field(default_factory=list)

    def reset(self, next_seq: int | None) -> None:
        self.expected = None if next_seq is None else next_seq & 0xFFFF
        self._stray.clear()

    def accept(self, batch: Samples) -> tuple[bool, int]:
        """Returns (accepted, missing samples before this batch)."""
        if self.expected is None:
            return self._take(batch, 0)
        missing = (batch.seq - self.expected) & 0xFFFF
        if missing == 0:
            return self._take(batch, 0)
        if missing <= MAX_GAP_SAMPLES:
            self.gaps += missing
            return self._take(batch, missing)
        if missing >= 0x8000:
            self.duplicates += 1
            return False, 0
        self.implausible += 1
        if self._stray and (self._stray[-1].seq + len(self._stray[-1].counts)) & 0xFFFF != batch.seq:
            self._stray.clear()
        self._stray.append(batch)
        if len(self._stray) >= ADOPT_AFTER_BATCHES:
            self.reset(batch.seq)
            return self._take(batch, 0)
        return False, 0

    def _take(self, batch: Samples, missing: int) -> tuple[bool, int]:
        self.expected = (batch.seq + len(batch.counts)) & 0xFFFF
        self._stray.clear()
        return True, missing
