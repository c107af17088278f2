"""The Pi codec against firmware/protocol/vectors.json (the MCU is checked on the same file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.scale import protocol as p

VECTORS = json.loads((Path(p.__file__).parents[1] / "protocol" / "vectors.json").read_text())


def bitwise_crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE the slow way, independent of binascii, to check the vectors themselves."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def test_crc_check_value() -> None:
    check = VECTORS["crc_check"]
    assert check["crc"] == 0x29B1
    assert p.crc16(check["ascii"].encode()) == check["crc"]
    assert bitwise_crc16(check["ascii"].encode()) == check["crc"]


def test_version_matches() -> None:
    assert VECTORS["protocol"] == p.PROTOCOL_VERSION


def test_documented_example_frames() -> None:
    assert p.encode_command(p.MsgType.IDENTIFY, 1) == bytes.fromhex("a55a011001fee8")
    assert p.encode_samples(65535, [42]) == bytes.fromhex("a55a0601ffff012a00003730")


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: v["name"])
def test_frame_vector(vector: dict) -> None:
    raw = bytes.fromhex(vector["hex"])
    body = raw[2:-2]
    assert raw[:2] == p.SYNC
    assert int.from_bytes(raw[-2:], "little") == bitwise_crc16(body)
    accept = p.MCU_TYPES if vector["direction"] == "mcu_to_pi" else p.COMMAND_TYPES
    parser = p.FrameParser(accept=accept)
    [message] = parser.feed_all(raw)
    fields = vector["fields"]
    if isinstance(message, p.Samples):
        assert message == p.Samples(fields["seq"], tuple(fields["counts"]))
        assert p.encode_samples(message.seq, message.counts) == raw
    elif isinstance(message, p.Status):
        assert (message.state, message.sps, message.next_seq, message.cause) == (
            fields["state"],
            fields["sps"],
            fields["next_seq"],
            fields["cause"],
        )
        assert p.encode_status(message.state, message.sps, message.next_seq, message.cause) == raw
    elif isinstance(message, p.Ack):
        assert (message.token, message.command, message.result) == (
            fields["token"],
            fields["command"],
            fields["result"],
        )
        if "identity" in fields:
            ident = p.decode_identity(message.data)
            expected = fields["identity"]
            assert ident == p.Identity(
                expected["protocol"],
                tuple(expected["firmware"]),
                expected["sps"],
                expected["channels"],
                expected["gain"],
                expected["next_seq"],
                expected["board"],
            )
        else:
            assert message.data.hex() == fields["data"]
        assert p.encode_ack(message.token, message.command, message.result, message.data) == raw
    else:
        assert message == p.Command(fields["command"], fields["token"], bytes.fromhex(fields["args"]))
        assert p.encode_command(message.command, message.token, message.args) == raw


@pytest.mark.parametrize("vector", VECTORS["reject"], ids=lambda v: v["name"])
def test_reject_vector(vector: dict) -> None:
    accept = p.MCU_TYPES if vector["direction"] == "mcu_to_pi" else p.COMMAND_TYPES
    parser = p.FrameParser(accept=accept)
    assert parser.feed_all(bytes.fromhex(vector["hex"])) == []
    if vector["why"] == "crc":
        assert parser.counters.crc_errors == 1


def test_every_type_has_a_vector() -> None:
    types = {v["type"] for v in VECTORS["frames"]}
    assert types == {int(t) for t in p.MsgType}


def test_vectors_file_is_what_the_generator_writes() -> None:
    from tools.make_scale_vectors import build

    assert build() == VECTORS


def test_complete_frame_is_held_until_the_next_sync_or_idle() -> None:
    parser = p.FrameParser()
    a, b = p.encode_samples(0, [1]), p.encode_samples(1, [2])
    assert parser.feed(a) == []
    assert parser.feed(b[:1]) == []
    assert parser.feed(b[1:]) == [p.Samples(0, (1,))]
    assert parser.idle() == [p.Samples(1, (2,))]


def test_frame_that_lost_a_byte_is_refused_even_when_its_crc_matches() -> None:
    """The 1-in-65536 case, found by a random search: a batch that lost payload byte 11 and is then
    completed with the next frame's first byte has a matching CRC and a plausible header. Only the
    check that a sync follows the frame refuses it."""
    frame = bytes.fromhex("a55a1b01080008db6e0ba2990cfefd2ddc9e22ded0461b397058ca494ce7501fb6")
    nxt = p.encode_samples(32, [5] * 8)
    damaged = frame[:11] + frame[12:]
    candidate = damaged + nxt[:1]
    assert int.from_bytes(candidate[-2:], "little") == p.crc16(candidate[2:-2])
    assert isinstance(p.decode_payload(candidate[3], candidate[4:-2]), p.Samples)
    parser = p.FrameParser()
    assert parser.feed_all(damaged + nxt) == [p.Samples(32, (5,) * 8)]
    assert parser.counters.framing_errors >= 1
