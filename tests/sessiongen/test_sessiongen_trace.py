"""Generated traces are valid cart-trace v1, deterministic for a seed, and written in the set's layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.cli.cartctl import main as cartctl
from tests.conftest import shared_path
from tests.sessiongen.tracecheck import check_trace
from tools.sessiongen import SESSION_KINDS, generate_dataset, generate_session, session_kinds, write_session


@pytest.mark.parametrize("unit", ["g", "counts"])
@pytest.mark.parametrize("kind", SESSION_KINDS)
def test_every_kind_writes_a_valid_trace(store, tmp_path: Path, kind: str, unit: str) -> None:
    session = generate_session(store, [5, SESSION_KINDS.index(kind)], f"s-{kind}", kind, unit=unit)
    (tmp_path / "catalog.csv").write_text("code,name,price_cents\n")
    path = write_session(session, tmp_path)
    assert check_trace(path) == []
    header = session.lines[0]
    assert header["scale"]["unit"] == unit
    assert (tmp_path / "truth" / f"s-{kind}.json").is_file()
    assert "truth" not in json.dumps(session.lines[0])  # the truth stays out of the trace


def test_other_sample_rates_stay_valid(store, tmp_path: Path) -> None:
    session = generate_session(store, 3, "s10", "honest", sps=10.3)
    (tmp_path / "catalog.csv").write_text("code,name,price_cents\n")
    assert check_trace(write_session(session, tmp_path)) == []
    assert {line["sps"] for line in session.lines if line["type"] == "scale"} == {10.3}


def test_same_seed_same_session_and_other_seed_differs(store) -> None:
    a = generate_session(store, [9, 1], "x", "swap", unit="counts")
    b = generate_session(store, [9, 1], "x", "swap", unit="counts")
    c = generate_session(store, [9, 2], "x", "swap", unit="counts")
    assert a.lines == b.lines and a.truth == b.truth
    assert a.lines != c.lines


def test_the_checker_catches_broken_traces(store, tmp_path: Path) -> None:
    session = generate_session(store, 4, "bad", "honest")
    (tmp_path / "catalog.csv").write_text("code,name,price_cents\n")
    path = write_session(session, tmp_path)
    lines = path.read_text().splitlines()
    events = [i for i, s in enumerate(lines) if '"type": "code"' in s or '"type": "input"' in s]
    broken = lines.copy()
    broken[events[0]], broken[events[0] + 2] = broken[events[0] + 2], broken[events[0]]
    path.write_text("\n".join(broken))
    assert check_trace(path)
    path.write_text("\n".join(lines[:5] + lines[6:]))  # a missing block
    assert any("gap" in e for e in check_trace(path))


def test_bad_options_are_refused(store) -> None:
    with pytest.raises(ValueError, match="unit"):
        generate_session(store, 1, "x", unit="kg")
    with pytest.raises(ValueError, match="kind"):
        generate_session(store, 1, "x", kind="theft")
    with pytest.raises(ValueError, match="incident rate"):
        session_kinds(10, 1.5, 1)


def test_kind_mix_is_exact() -> None:
    kinds = session_kinds(1000, 0.4, 3)
    assert kinds.count("honest") == 600
    assert {k: kinds.count(k) for k in set(kinds) - {"honest"}} == {
        "unscanned_item": 100,
        "swap": 100,
        "scan_not_placed": 100,
        "scanned_twice": 100,
    }
    assert kinds != session_kinds(1000, 0.4, 4)


def test_dataset_layout(tmp_path: Path) -> None:
    off = shared_path("data", "catalog", "off_products_slim.csv")
    plu = shared_path("data", "plu", "plu_codes.json")
    manifest = generate_dataset(tmp_path, 4, seed=2, incident_rate=0.5, off_csv=off, plu_json=plu)
    assert manifest["kinds"]["honest"] == 2
    traces = sorted(tmp_path.glob("*/trace.jsonl"))
    assert len(traces) == 4
    for trace in traces:
        assert check_trace(trace) == []
        header = json.loads(trace.read_text().splitlines()[0])
        assert (trace.parent / header["catalog"]).resolve() == (tmp_path / "catalog.csv").resolve()
        truth = json.loads((tmp_path / "truth" / f"{trace.parent.name}.json").read_text())
        assert truth["session_id"] == header["session_id"] == trace.parent.name
    assert (tmp_path / "truth" / "store_truth.csv").is_file()


def test_cartctl_generate(tmp_path: Path, capsys) -> None:
    shared_path("data", "catalog", "off_products_slim.csv")
    out = tmp_path / "set"
    assert cartctl(["generate", "--out", str(out), "--sessions", "2", "--seed", "5", "--unit", "counts"]) == 0
    printed = capsys.readouterr().out
    assert "generated 2 sessions" in printed and "[" not in printed  # no progress bar without a TTY
    assert len(list(out.glob("*/trace.jsonl"))) == 2
    assert cartctl(["generate", "--out", str(out), "--sessions", "2", "--seed", "5", "--sps", "0"]) == 2
