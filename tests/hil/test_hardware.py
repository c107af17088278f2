"""`pytest -m hil`: the same scenarios against a real cart, when SMARTCART_HIL_PORT names its scale's
serial port (skipped otherwise). The rig prints each step as a prompt for the person or robot at
the cart and plays the scans and touches itself; the cart's scale is read through SerialScaleSource.

    SMARTCART_HIL_PORT=/dev/ttyACM0 SMARTCART_CALIBRATION=/var/lib/smartcart/calibration.toml \\
        pytest -m hil tests/hil -k quick [SMARTCART_HIL_PACE=manual] [SMARTCART_HIL_REPORT=DIR]

The catalog's products must be at hand (or `catalog:` in the scenario must name the store's own).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hil.conftest import shipped
from tools.hil.scenario import load_scenario
from tools.hil.targets import PASSED, SKIPPED, RunResult, Target, run_scenario

PORT = os.environ.get("SMARTCART_HIL_PORT", "")
pytestmark = [
    pytest.mark.hil,
    pytest.mark.skipif(not PORT, reason="set SMARTCART_HIL_PORT to the real cart's scale port to run HIL tests"),
]
RESULTS: list[RunResult] = []


@pytest.fixture(scope="module", autouse=True)
def write_reports():  # type: ignore[no-untyped-def]
    yield
    out = os.environ.get("SMARTCART_HIL_REPORT")
    if out and RESULTS:
        from tools.hil.reports import write_html, write_junit

        write_junit(RESULTS, Path(out) / "junit.xml")
        write_html(RESULTS, Path(out))


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_scenario_on_real_cart(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(path)
    pace = os.environ.get("SMARTCART_HIL_PACE", "timed")
    calibration = os.environ.get("SMARTCART_CALIBRATION")
    with capsys.disabled():  # the prompts are for the person at the cart
        result = run_scenario(
            scenario,
            Target("serial", PORT),
            tmp_path,
            pace=pace,
            calibration_path=Path(calibration) if calibration else None,
        )
    RESULTS.append(result)
    if result.status == SKIPPED:
        pytest.skip(result.message)
    assert result.status == PASSED, "; ".join(result.problems) or result.message


def test_record_real_cart(tmp_path: Path) -> None:
    from firmware.core.trace import read_trace
    from firmware.scale import calibration as calibration_file
    from tools.hil.record import record
    from tools.hil.scenario import default_catalog

    rec = record(PORT, tmp_path / "recorded", calibration_file.load(None), default_catalog(), seconds=5.0)
    assert rec.samples > 0, "the cart's scale gave no samples in 5 s"
    assert read_trace(tmp_path / "recorded").end_t >= 4.5
