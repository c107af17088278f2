"""Framing of the scale link on the MCU: CRC-16/CCITT-FALSE, frame encoding, and the decoder for
commands arriving from the Pi, which resynchronises after garbage exactly as PROTOCOL.md says."""

from micropython import const

SYNC = b"\xa5\x5a"
MAX_PAYLOAD = const(120)

T_SAMPLES = const(0x01)
T_STATUS = const(0x02)
T_ACK = const(0x03)
T_IDENTIFY = const(0x10)
T_PING = const(0x11)
T_SET_RATE = const(0x12)
T_POWER_DOWN = const(0x13)
T_POWER_UP = const(0x14)
T_REBOOT = const(0x15)
T_MAINTENANCE = const(0x16)
FIRST_COMMAND = const(0x10)
LAST_COMMAND = const(0x3F)


def _make_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _make_table()


def crc16(data, crc=0xFFFF):
    table = _TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc


def encode_frame(msg_type, payload=b""):
    n = len(payload)
    if n > MAX_PAYLOAD:
        raise ValueError("payload too long")
    frame = bytearray(6 + n)
    frame[0] = 0xA5
    frame[1] = 0x5A
    frame[2] = n
    frame[3] = msg_type
    frame[4 : 4 + n] = payload
    crc = crc16(memoryview(frame)[2 : 4 + n])
    frame[4 + n] = crc & 0xFF
    frame[5 + n] = crc >> 8
    return frame


def encode_samples(seq, counts):
    n = len(counts)
    payload = bytearray(3 + 3 * n)
    payload[0] = seq & 0xFF
    payload[1] = (seq >> 8) & 0xFF
    payload[2] = n
    i = 3
    for value in counts:
        value &= 0xFFFFFF
        payload[i] = value & 0xFF
        payload[i + 1] = (value >> 8) & 0xFF
        payload[i + 2] = value >> 16
        i += 3
    return encode_frame(T_SAMPLES, payload)


def encode_status(state, sps, next_seq, cause):
    return encode_frame(T_STATUS, bytes((state, sps, next_seq & 0xFF, (next_seq >> 8) & 0xFF, cause)))


def encode_ack(token, command, result, data=b""):
    return encode_frame(T_ACK, bytes((token, command, result)) + bytes(data))


class CommandDecoder:
    """Byte stream from the Pi -> (type, token, args) tuples. Counts what it had to throw away."""

    def __init__(self):
        self.buf = bytearray()
        self.crc_errors = 0
        self.framing_errors = 0

    def feed(self, data):
        buf = self.buf
        buf.extend(data)
        out = []
        while True:
            start = buf.find(SYNC)
            if start < 0:
                keep = 1 if len(buf) and buf[-1] == 0xA5 else 0
                buf[0 : len(buf) - keep] = b""
                break
            if start:
                buf[0:start] = b""
            if len(buf) < 4:
                break
            length = buf[2]
            msg_type = buf[3]
            if length < 1 or length > MAX_PAYLOAD or msg_type < FIRST_COMMAND or msg_type > LAST_COMMAND:
                self.framing_errors += 1
                buf[0:1] = b""
                continue
            total = 6 + length
            if len(buf) < total:
                break
            crc = buf[total - 2] | (buf[total - 1] << 8)
            if crc != crc16(memoryview(buf)[2 : 4 + length]):
                self.crc_errors += 1
                buf[0:1] = b""
                continue
            token = buf[4]
            if token == 0:
                self.framing_errors += 1
                buf[0:1] = b""
                continue
            out.append((msg_type, token, bytes(buf[5:total - 2])))
            buf[0:total] = b""
        return out
