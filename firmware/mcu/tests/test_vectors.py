"""The MCU's framing against firmware/protocol/vectors.json: the same bytes the Pi side is tested on."""

from support import assert_equal, load_vectors, tohex, unhex

from scale_mcu import frames
from scale_mcu.commands import CommandHandler

V = load_vectors()


def test_crc_check_value():
    check = V["crc_check"]
    assert_equal(frames.crc16(check["ascii"].encode()), check["crc"], "crc16 check value")


def test_protocol_version_matches_document():
    import scale_mcu

    assert_equal(scale_mcu.PROTOCOL_VERSION, V["protocol"], "protocol version")


def _encode(vector):
    f = vector["fields"]
    t = vector["type"]
    if t == frames.T_SAMPLES:
        return frames.encode_samples(f["seq"], f["counts"])
    if t == frames.T_STATUS:
        return frames.encode_status(f["state"], f["sps"], f["next_seq"], f["cause"])
    if "identity" in f:
        return frames.encode_ack(f["token"], f["command"], f["result"], _identity_bytes(f["identity"]))
    return frames.encode_ack(f["token"], f["command"], f["result"], unhex(f["data"]))


class _Chip:
    def __init__(self, sps, gain):
        self.sps = sps
        self.gain = gain


class _Sampler:
    def __init__(self, chip, next_seq):
        self.chip = chip
        self.next_seq = next_seq


def _identity_bytes(identity):
    # built by the firmware's own CommandHandler.identity(), so the vector checks the real code
    import scale_mcu

    saved = scale_mcu.FIRMWARE_VERSION
    sampler = _Sampler(_Chip(identity["sps"], identity["gain"]), identity["next_seq"])
    handler = CommandHandler(sampler, identity["board"], lambda: None, identity["channels"])
    assert_equal(list(saved), identity["firmware"], "firmware version in vector")
    return handler.identity()


def test_mcu_to_pi_frames_encode_to_vectors():
    count = 0
    for vector in V["frames"]:
        if vector["direction"] != "mcu_to_pi":
            continue
        assert_equal(tohex(_encode(vector)), vector["hex"], vector["name"])
        count += 1
    assert count >= 8


def test_pi_to_mcu_frames_decode_from_vectors():
    count = 0
    for vector in V["frames"]:
        if vector["direction"] != "pi_to_mcu":
            continue
        decoder = frames.CommandDecoder()
        got = decoder.feed(unhex(vector["hex"]))
        f = vector["fields"]
        assert_equal(got, [(f["command"], f["token"], unhex(f["args"]))], vector["name"])
        count += 1
    assert count >= 6


def test_all_command_vectors_in_one_stream_byte_by_byte():
    stream = b"".join(unhex(v["hex"]) for v in V["frames"] if v["direction"] == "pi_to_mcu")
    decoder = frames.CommandDecoder()
    got = []
    for i in range(len(stream)):
        got.extend(decoder.feed(stream[i : i + 1]))
    assert_equal(len(got), sum(1 for v in V["frames"] if v["direction"] == "pi_to_mcu"), "frames")


def test_reject_vectors_yield_nothing():
    for vector in V["reject"]:
        if vector["direction"] != "pi_to_mcu":
            continue
        decoder = frames.CommandDecoder()
        assert_equal(decoder.feed(unhex(vector["hex"])), [], vector["name"])
        if vector["why"] == "crc":
            assert_equal(decoder.crc_errors, 1, vector["name"] + " crc errors")


def test_mcu_frames_are_refused_by_the_command_decoder():
    # the MCU accepts only command types: its own frames echoed back must not be taken as commands
    decoder = frames.CommandDecoder()
    for vector in V["frames"]:
        if vector["direction"] == "mcu_to_pi":
            assert_equal(decoder.feed(unhex(vector["hex"])), [], vector["name"])
