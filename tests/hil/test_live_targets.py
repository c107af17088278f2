"""The live targets, for real: the `emulated` target runs whole `cartd --emulate` subprocesses (real
MCU firmware on a pty, synthetic camera, recorded shopper) and watches them through the API; the
`serial:PATH` target reads the scale emulator through SerialScaleSource and the real pipeline.
These run in real time (about 20-30 s each, played in parallel where they can be)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hil.conftest import SCENARIOS, StreamingScale
from tools.hil.compiler import compile_scenario
from tools.hil.scenario import load_scenario
from tools.hil.serial_rig import run_serial
from tools.hil.targets import PASSED, RunResult, Target, run_scenario

STAGGER_S = 4.0
EMULATED = ("light-gum-dropped", "quick-unscanned-item", "quick-produce-and-removal")


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_emulated_cart_plays_scenarios(tmp_path: Path) -> None:
    scenarios = [load_scenario(SCENARIOS / f"{name}.yaml") for name in EMULATED]

    def play(index: int) -> RunResult:
        time.sleep(STAGGER_S * index)  # three daemons starting at once on two cores starve their scale links
        return run_scenario(scenarios[index], Target("emulated"), tmp_path)

    with ThreadPoolExecutor(len(scenarios)) as pool:
        results = list(pool.map(play, range(len(scenarios))))
    for result in results:
        assert result.status == PASSED, f"{result.scenario.name}: {result.problems or result.message}\n{result.log}"
        assert result.report is not None and result.report["stats"]["target"] == "emulated"
        assert result.report["stats"]["samples"] > 1000  # the daemon's pipeline saw the MCU's stream
    unscanned = results[1].report
    assert unscanned is not None and [a["kind"] for a in unscanned["alerts"]] == ["unscanned_item"]
    assert (tmp_path / "light-gum-dropped" / "cartd.log").exists()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_serial_rig_against_the_scale_emulator(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "light-gum-dropped.yaml")
    compiled = compile_scenario(scenario, tmp_path / "trace")
    prompts: list[str] = []
    asked: list[str] = []
    result = RunResult(scenario, "serial")
    with StreamingScale(compiled.trace_dir, tmp_path / "tty") as scale:  # a robot: done as soon as asked
        report = run_serial(
            compiled,
            str(scale.link),
            scale.calibration,
            result,
            prompt=prompts.append,
            pace="manual",
            wait_for_person=asked.append,
        )
    from tools.hil.expect import check

    assert check(report, compiled) == []
    assert report["stats"]["scale"]["samples"] > 1200
    assert any("drop Chewing gum 15 g in the basket" in p for p in prompts)
    assert any("scan Tinned tomatoes 400 g" in p for p in prompts)
    assert len(asked) == 2  # the two placements wait for the person; scans and checkout are the rig's
    assert result.samples_t is not None and result.samples_t.size > 1200


def test_serial_rig_refuses_a_silent_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.hil.serial_rig.FIRST_SAMPLES_TIMEOUT_S", 1.5)
    scenario = load_scenario(SCENARIOS / "light-gum-dropped.yaml")
    calibration = tmp_path / "calibration.toml"
    calibration.write_text("offset = 0.0\ncounts_per_gram = 100.0\n")
    result = run_scenario(
        scenario, Target("serial", str(tmp_path / "no-such-tty")), tmp_path, calibration_path=calibration
    )
    assert result.status == "error" and "no samples" in result.message
