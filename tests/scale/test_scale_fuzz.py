"""Property-based fuzzing of the Pi-side parser and sequence tracker: garbage, truncated, duplicated,
bit-flipped and dropped bytes never crash it, never make it hoard memory, and never make it hand on a
sample that was not sent (or hand one on twice)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.scale import protocol as p

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

counts_st = st.integers(min_value=p.SAMPLE_MIN, max_value=p.SAMPLE_MAX)


@st.composite
def batches(draw: st.DrawFn) -> list[p.Samples]:
    seq = draw(st.integers(0, 0xFFFF))
    out = []
    for _ in range(draw(st.integers(1, 25))):
        counts = tuple(draw(st.lists(counts_st, min_size=1, max_size=p.MAX_BATCH)))
        out.append(p.Samples(seq, counts))
        seq = (seq + len(counts) + draw(st.sampled_from([0, 0, 0, 1, 8]))) & 0xFFFF
    return out


mutation = st.one_of(
    st.tuples(st.just("garbage"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("truncate"), st.integers(1, 50)),
    st.tuples(st.just("duplicate"), st.just(0)),
    st.tuples(st.just("flip"), st.integers(0, 10_000)),
    st.tuples(st.just("drop"), st.integers(0, 10_000)),
    st.tuples(st.just("keep"), st.just(0)),
)


def mutate(frame: bytes, how: tuple[str, int | bytes]) -> bytes:
    kind, arg = how
    if kind == "garbage":
        return bytes(arg) + frame  # type: ignore[arg-type]
    if kind == "truncate":
        return frame[: max(0, len(frame) - int(arg))]  # type: ignore[arg-type]
    if kind == "duplicate":
        return frame + frame
    if kind == "flip":
        bit = int(arg) % (len(frame) * 8)  # type: ignore[arg-type]
        out = bytearray(frame)
        out[bit // 8] ^= 1 << (bit % 8)
        return bytes(out)
    if kind == "drop":
        i = int(arg) % len(frame)  # type: ignore[arg-type]
        return frame[:i] + frame[i + 1 :]
    return frame


def run_stream(stream: bytes, chunk_sizes: list[int]) -> tuple[p.FrameParser, list[p.Message]]:
    parser = p.FrameParser()
    out: list[p.Message] = []
    i = 0
    sizes = chunk_sizes or [len(stream) or 1]
    k = 0
    while i < len(stream):
        n = sizes[k % len(sizes)]
        out += parser.feed(stream[i : i + n])
        assert parser.pending_bytes <= p.HEADER_LEN + p.MAX_PAYLOAD + p.CRC_LEN
        i += n
        k += 1
    out += parser.idle()
    assert parser.pending_bytes <= 1
    return parser, out


@SETTINGS
@given(
    sent=batches(),
    mutations=st.lists(mutation, min_size=25, max_size=25),
    chunks=st.lists(st.integers(1, 64), max_size=5),
)
def test_mutated_stream_yields_only_samples_that_were_sent(sent, mutations, chunks) -> None:
    truth: dict[int, int] = {}
    for batch in sent:
        for i, c in enumerate(batch.counts):
            truth[(batch.seq + i) & 0xFFFF] = c
    pieces = [mutate(p.encode_samples(b.seq, b.counts), m) for b, m in zip(sent, mutations, strict=False)]
    stream = b"".join(pieces)
    _, messages = run_stream(stream, chunks)
    tracker = p.SequenceTracker()
    seen: set[int] = set()
    for message in messages:
        assert isinstance(message, p.Samples)
        accepted, missing = tracker.accept(message)
        assert missing >= 0
        if not accepted:
            continue
        for i, c in enumerate(message.counts):
            seq = (message.seq + i) & 0xFFFF
            assert truth.get(seq) == c, f"sample {seq} = {c} was never sent"
            assert seq not in seen, f"sample {seq} handed on twice"
            seen.add(seq)
    for k, (batch, how) in enumerate(zip(sent, mutations, strict=False)):
        # a frame that arrived intact and is followed by a frame start (or the end) is always found
        after = b"".join(pieces[k + 1 :])[:2]
        if how[0] in ("keep", "garbage") and after in (p.SYNC, b""):
            assert batch in messages


@SETTINGS
@given(data=st.binary(max_size=2000), chunks=st.lists(st.integers(1, 300), max_size=4))
def test_garbage_never_crashes(data: bytes, chunks: list[int]) -> None:
    _parser, messages = run_stream(data, chunks)
    for m in messages:  # only CRC-valid, well-formed frames can come out of noise
        assert isinstance(m, p.Samples | p.Status | p.Ack)


@SETTINGS
@given(
    msg_type=st.sampled_from([int(t) for t in p.MsgType] + [0x00, 0x04, 0x7F, 0xFF]),
    payload=st.binary(max_size=p.MAX_PAYLOAD),
)
def test_any_crc_valid_frame_decodes_or_is_refused(msg_type: int, payload: bytes) -> None:
    """Even frames with a good CRC but nonsense fields (from a buggy MCU) are refused cleanly."""
    parser = p.FrameParser(accept=p.MCU_TYPES | p.COMMAND_TYPES)
    messages = parser.feed_all(p.encode_frame(msg_type, payload) + p.encode_samples(1, [2]))
    assert messages[-1] == p.Samples(1, (2,))
    assert len(messages) <= 2


@SETTINGS
@given(sent=batches(), cut=st.integers(0, 5000))
def test_split_anywhere_is_the_same_as_whole(sent, cut) -> None:
    stream = b"".join(p.encode_samples(b.seq, b.counts) for b in sent)
    cut %= len(stream) + 1
    parser = p.FrameParser()
    assert parser.feed(stream[:cut]) + parser.feed(stream[cut:]) + parser.idle() == sent
