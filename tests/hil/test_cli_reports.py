"""`cartctl hil run` end to end on the replay target: exit codes, JUnit XML and the HTML report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from tests.hil.conftest import SCENARIOS


def test_run_writes_junit_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = tmp_path / "wrong-total.yaml"
    wrong.write_text(
        (SCENARIOS / "light-gum-dropped.yaml")
        .read_text()
        .replace("name: light-gum-dropped", "name: wrong-total")
        .replace("total_cents: 228", "total_cents: 999")
    )
    junit, report = tmp_path / "junit.xml", tmp_path / "report"
    code = main(
        [
            "hil",
            "run",
            str(SCENARIOS / "light-gum-dropped.yaml"),
            str(SCENARIOS / "unscanned-item.yaml"),
            str(wrong),
            "--target",
            "replay",
            "--junit",
            str(junit),
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "PASS  light-gum-dropped" in out and "FAILED wrong-total" in out and "total 228 cents, expected 999" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["wrong-total"].find("failure") is not None
    assert cases["unscanned-item"].find("failure") is None
    assert '"kind": "unscanned_item"' in (cases["unscanned-item"].findtext("system-out") or "")
    page = (report / "index.html").read_text()
    assert "3 scenario runs: 2 passed, 1 failed" in page
    plots = sorted(p.name for p in (report / "plots").glob("*.png"))
    assert plots == ["replay-light-gum-dropped.png", "replay-unscanned-item.png", "replay-wrong-total.png"]
    assert all((report / "plots" / p).stat().st_size > 5000 for p in plots)
    assert (report / "traces" / "unscanned-item" / "trace" / "trace.jsonl").exists()


def test_invalid_scenario_is_refused_with_its_file_and_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - scan: gum\n  - juggle: 2\nexpect: {items: [], alerts: [], review: false}\n")
    assert main(["hil", "run", str(bad)]) == 2
    assert f"{bad}: step 2: unknown step 'juggle'" in capsys.readouterr().err
    assert main(["hil", "run", str(SCENARIOS / "light-gum-dropped.yaml"), "--target", "usb"]) == 2


def test_seeds_play_each_story_on_several_carts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "hil",
            "run",
            str(SCENARIOS / "two-units-together.yaml"),
            "--seeds",
            "3",
            "--jobs",
            "2",
            "--work",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert all(f"two-units-together@{k}" in out for k in range(3))
    traces = {(tmp_path / f"two-units-together@{k}" / "trace" / "trace.jsonl").read_bytes() for k in range(3)}
    assert len(traces) == 3  # three different carts


def test_targets_skip_what_they_cannot_play(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "hil",
            "run",
            str(SCENARIOS / "scale-cable-pull.yaml"),
            str(SCENARIOS / "camera-fault.yaml"),
            "--target",
            "emulated",
            "--junit",
            str(tmp_path / "j.xml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "0 passed, 0 failed or errored, 2 skipped" in out
    assert "cannot pull its cable" in out
    assert len(list(ET.parse(tmp_path / "j.xml").getroot().iter("skipped"))) == 2
