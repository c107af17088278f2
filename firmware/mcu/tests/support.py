"""Helpers for the firmware tests: a settable clock, a port that records frames, a frame splitter."""

import json

from scale_mcu import frames

HERE = __file__.rpartition("/")[0] or "."
VECTORS = HERE + "/../../protocol/vectors.json"


def load_vectors():
    with open(VECTORS) as f:
        return json.load(f)


def unhex(text):
    return bytes(int(text[i : i + 2], 16) for i in range(0, len(text), 2))


def tohex(data):
    return "".join("%02x" % b for b in data)


class Clock:
    def __init__(self, ms=1000):
        self.ms = ms

    def ticks_ms(self):
        return self.ms

    def ticks_us(self):
        return self.ms * 1000

    def advance(self, ms):
        self.ms += ms


def ticks_diff(a, b):
    return a - b


class RecordingPort:
    def __init__(self):
        self.out = bytearray()
        self.incoming = bytearray()
        self.closed = False
        self.released = 0

    def read_available(self, limit=64):
        data = bytes(self.incoming[:limit])
        self.incoming[0 : len(data)] = b""
        return data

    def write(self, frame):
        self.out.extend(frame)

    def flush(self):
        pass

    def release(self):
        self.released += 1

    def take_frames(self):
        """Splits what was written into (type, payload) pairs, checking each frame's CRC."""
        out = []
        buf = self.out
        i = 0
        while i < len(buf):
            assert buf[i] == 0xA5 and buf[i + 1] == 0x5A, "frame does not start with sync"
            n = buf[i + 2]
            body = bytes(buf[i + 2 : i + 4 + n])
            crc = buf[i + 4 + n] | (buf[i + 5 + n] << 8)
            assert crc == frames.crc16(body), "bad crc in sent frame"
            out.append((buf[i + 3], bytes(buf[i + 4 : i + 4 + n])))
            i += 6 + n
        self.out = bytearray()
        return out


def samples_of(payload):
    seq = payload[0] | (payload[1] << 8)
    n = payload[2]
    values = []
    for k in range(n):
        raw = payload[3 + 3 * k] | (payload[4 + 3 * k] << 8) | (payload[5 + 3 * k] << 16)
        values.append(raw - 0x1000000 if raw & 0x800000 else raw)
    return seq, values


def assert_equal(a, b, what=""):
    if a != b:
        raise AssertionError("%s: %r != %r" % (what, a, b))


def assert_raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type:
        return
    raise AssertionError("%s not raised" % exc_type.__name__)
