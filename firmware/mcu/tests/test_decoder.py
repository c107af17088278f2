"""Command decoder resynchronisation on the MCU: garbage, split frames, corrupted frames."""

from support import assert_equal

from scale_mcu import frames


def _cmd(t, token, args=b""):
    return frames.encode_frame(t, bytes((token,)) + args)


def test_garbage_between_commands_is_skipped():
    d = frames.CommandDecoder()
    stream = b"\x00\xa5\xff" + _cmd(0x11, 9, b"ab") + b"\xa5\x5a\xff\xa5" + _cmd(0x10, 10)
    assert_equal(d.feed(stream), [(0x11, 9, b"ab"), (0x10, 10, b"")], "decoded")


def test_corrupted_frame_does_not_hide_the_next_one():
    bad = bytearray(_cmd(0x12, 3, b"\x50"))
    bad[5] ^= 0x04
    d = frames.CommandDecoder()
    got = d.feed(bytes(bad) + _cmd(0x14, 4))
    assert_equal(got, [(0x14, 4, b"")], "decoded")
    assert_equal(d.crc_errors, 1, "crc errors")


def test_frame_hidden_after_a_bogus_length():
    # a lone sync with a length of 100 in front of a real command: the real one is still found
    d = frames.CommandDecoder()
    got = d.feed(b"\xa5\x5a\x64\x11" + _cmd(0x13, 7))
    assert_equal(got, [], "waits for the long frame")
    got = d.feed(bytes(120))
    assert_equal(got, [(0x13, 7, b"")], "after resync")


def test_buffer_stays_bounded_on_endless_garbage():
    d = frames.CommandDecoder()
    for _ in range(50):
        d.feed(b"\x01\x02\x03" * 40)
    assert len(d.buf) <= 1
