from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.core.events import CheckoutRequested, CodeRead, PluKeyed, RemovalAnnounced, ScaleSampled, SessionEnded
from firmware.core.trace import TraceError, read_trace

HEADER = {"type": "header", "version": 1, "catalog": "catalog.csv", "scale": {"unit": "g"}}


def write(tmp_path: Path, lines: list[object]) -> Path:
    folder = tmp_path / "t1"
    folder.mkdir(exist_ok=True)
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (folder / "trace.jsonl").write_text(text + "\n", encoding="utf-8")
    return folder


def test_example_trace_reads(example_trace: Path) -> None:
    trace = read_trace(example_trace)
    assert trace.header.session_id == "example"
    assert trace.name == "example"
    kinds = {type(e) for e in trace.events}
    assert {ScaleSampled, CodeRead, PluKeyed, RemovalAnnounced, CheckoutRequested, SessionEnded} <= kinds
    assert trace.end_t == 24.0


def test_counts_are_converted_to_grams(tmp_path: Path) -> None:
    header = dict(HEADER, scale={"unit": "counts", "offset": 1000, "counts_per_gram": 2.0})
    trace = read_trace(
        write(tmp_path, [header, {"type": "scale", "t": 0, "sps": 80, "values": [1000, 1200]}, {"type": "end", "t": 1}])
    )
    assert trace.events[0].values_g == (0.0, 100.0)


@pytest.mark.parametrize(
    ("lines", "line_no", "message"),
    [
        (["{not json"], 1, "not valid JSON"),
        ([{"type": "scale", "t": 0, "sps": 80, "values": []}], 1, "first line must be the header"),
        ([dict(HEADER, version=2)], 1, "unsupported trace version"),
        ([dict(HEADER, scale={"unit": "lb"})], 1, "'g' or 'counts'"),
        ([HEADER, {"type": "scale", "t": 1, "sps": 80, "values": [1, "x"]}], 2, "non-number"),
        ([HEADER, {"type": "scale", "t": 1, "sps": 0, "values": [1]}], 2, "'sps' must be positive"),
        ([HEADER, {"type": "code", "t": 2}, {"type": "end", "t": 3}], 2, "'text'"),
        (
            [HEADER, {"type": "code", "t": 2, "text": "4011"}, {"type": "code", "t": 1, "text": "4011"}],
            3,
            "back in time",
        ),
        ([HEADER, {"type": "input", "t": 1, "action": "plu"}], 2, "'plu'"),
        ([HEADER, {"type": "end", "t": 1}, {"type": "code", "t": 2, "text": "1"}], 3, "after the 'end'"),
        ([HEADER, HEADER], 2, "second header"),
        ([HEADER, {"type": "frame", "t": "soon", "image": "a.png"}], 2, "'t' must be a finite number"),
        ([HEADER, "[1, 2]"], 2, "JSON object"),
    ],
)
def test_malformed_traces_name_file_and_line(tmp_path: Path, lines: list[object], line_no: int, message: str) -> None:
    folder = write(tmp_path, lines)
    with pytest.raises(TraceError) as caught:
        read_trace(folder)
    assert caught.value.line == line_no
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{folder / 'trace.jsonl'}:{line_no}:")


def test_unknown_types_and_actions_are_skipped_not_fatal(tmp_path: Path) -> None:
    trace = read_trace(
        write(
            tmp_path,
            [
                HEADER,
                {"type": "weather", "t": 0.5, "sky": "grey"},
                {"type": "input", "t": 1, "action": "wave"},
                {"type": "end", "t": 2},
            ],
        )
    )
    assert trace.skipped_lines == 2
    assert isinstance(trace.events[-1], SessionEnded)


def test_missing_end_finishes_at_the_last_moment_with_a_warning(tmp_path: Path) -> None:
    trace = read_trace(write(tmp_path, [HEADER, {"type": "scale", "t": 0, "sps": 10, "values": [0.0] * 20}]))
    assert trace.end_t == pytest.approx(2.0)
    assert trace.warnings and "no 'end'" in trace.warnings[0]


def test_missing_file_and_binary_garbage(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such trace"):
        read_trace(tmp_path / "nothing")
    bad = tmp_path / "bin"
    bad.mkdir()
    (bad / "trace.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TraceError, match="UTF-8"):
        read_trace(bad)
