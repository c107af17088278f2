from __future__ import annotations

import json
import shutil
from pathlib import Path

from firmware.cli.cartctl import main


def test_example_replays_to_the_expected_report(tmp_path: Path, example_trace: Path, capsys) -> None:
    assert main(["replay", str(example_trace), "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "example.json").read_text())
    expected = json.loads((example_trace / "expected-report.json").read_text())
    for key in ("version", "session_id", "items", "total_cents", "alerts", "review"):
        assert report[key] == expected[key], key
    assert "replayed 1 of 1 traces" in capsys.readouterr().out


def test_malformed_trace_is_named_and_the_others_still_run(tmp_path: Path, example_trace: Path, capsys) -> None:
    good_a = tmp_path / "in" / "a"
    good_b = tmp_path / "in" / "b"
    bad = tmp_path / "in" / "broken"
    for folder in (good_a, good_b, bad):
        shutil.copytree(example_trace, folder)
    lines = (bad / "trace.jsonl").read_text().splitlines()
    lines[4] = lines[4].replace('"text"', '"txet"')
    (bad / "trace.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert main(["replay", str(good_a), str(bad), str(good_b), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert f"{bad / 'trace.jsonl'}:5:" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json"]
    assert "replayed 2 of 3 traces (1 failed)" in captured.out


def test_missing_catalog_is_an_error_not_a_crash(tmp_path: Path, example_trace: Path, capsys) -> None:
    folder = tmp_path / "nocat"
    shutil.copytree(example_trace, folder)
    (folder / "catalog.csv").unlink()
    assert main(["replay", str(folder), "--out", str(tmp_path / "o")]) == 1
    assert "no such catalog" in capsys.readouterr().err
