"""Runs the MCU firmware's own tests on the MicroPython unix port (firmware/mcu/tests/run.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from firmware.scale.emulator import EmulatorError, micropython_binary

RUNNER = Path(__file__).resolve().parents[2] / "firmware" / "mcu" / "tests" / "run.py"


def test_firmware_tests_pass_on_the_unix_port() -> None:
    try:
        binary = micropython_binary()
    except EmulatorError as exc:
        pytest.skip(str(exc))
    result = subprocess.run([binary, str(RUNNER)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout
    passed = int(result.stdout.split("mcu tests: ")[1].split(" passed")[0])
    assert passed >= 25
