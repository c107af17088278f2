"""`cartctl selftest`: each check passes on a healthy (emulated) cart and fails on the fault it is
for; exit code 0 only when nothing failed."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from firmware.cli.cartctl import main
from firmware.scale.calibration import Calibration, save
from firmware.tech import selftest as st
from firmware.tech.testcard import TEST_CARD_CODE, render_card

from .conftest import COUNTS_PER_GRAM, OFFSET, SPS, scripted_counts


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/api/healthz" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def store() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api"
    server.shutdown()
    server.server_close()


@pytest.fixture
def calibration(tmp_path: Path) -> Path:
    return save(Calibration(OFFSET, COUNTS_PER_GRAM), tmp_path / "calibration.toml")


def test_healthy_cart_passes(
    tmp_path: Path, emulator: Callable[..., Path], store: str, calibration: Path, capsys
) -> None:
    port = emulator(scripted_counts([(10, 0.0)]))
    args = ["selftest", "--port", str(port), "--calibration", str(calibration), "--camera", "test-card"]
    (tmp_path / "state").mkdir()
    code = main([*args, "--store", store, "--seconds", "2", "--state-dir", str(tmp_path / "state")])
    out = capsys.readouterr().out.splitlines()
    assert code == 0, out
    assert [line.split()[:2] for line in out[:6]] == [
        ["ok", "camera"], ["ok", "scale"], ["ok", "model"], ["ok", "store"], ["ok", "storage"], ["ok", "clock"],
    ]  # fmt: skip
    assert TEST_CARD_CODE in out[0] and "MB free in" in out[4] and "s from the store's clock" in out[5]
    assert out[-1] == "6 ok, 0 failed, 0 skipped"


def test_faults_fail_their_checks(tmp_path: Path, emulator: Callable[..., Path], calibration: Path, capsys) -> None:
    drifting = [round(OFFSET + COUNTS_PER_GRAM * (8.0 * i / (2 * SPS))) for i in range(SPS * 30)]  # 8 g in 2 s
    port = emulator(drifting)
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640, 3), 200, np.uint8))
    args = ["selftest", "--port", str(port), "--calibration", str(calibration), "--camera", str(blank)]
    faults = ["--store", "http://127.0.0.1:9", "--verifier", "nonesuch", "--state-dir", str(tmp_path / "none")]
    code = main([*args, *faults, "--seconds", "2"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    status = {line.split()[1]: line.split()[0] for line in out[:6]}
    assert status == {
        "camera": "FAIL", "scale": "FAIL", "model": "FAIL", "store": "FAIL", "storage": "skip", "clock": "ok",
    }  # fmt: skip
    scale_line = next(line for line in out if line.split()[1] == "scale")
    assert "drift +" in scale_line and "> 0.5e = 5 g" in scale_line


def test_missing_parts_are_skipped_and_missing_calibration_fails(tmp_path: Path, capsys) -> None:
    code = main(["selftest", "--seconds", "1", "--state-dir", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert code == 0 and "skip camera" in out and "skip scale" in out and "skip store" in out
    assert "skip storage" in out
    code = main(["selftest", "--port", "loop://", "--calibration", str(tmp_path / "none.toml"), "--seconds", "1"])
    assert code == 1 and "run cartctl calibrate" in capsys.readouterr().out


def test_camera_reads_the_card_it_wrote(tmp_path: Path, capsys) -> None:
    card = tmp_path / "card.png"
    assert main(["selftest", "--write-card", str(card)]) == 0
    assert main(["selftest", "--camera", str(card), "--seconds", "1"]) == 0
    assert f"read the test card {TEST_CARD_CODE}" in capsys.readouterr().out


def test_camera_reading_another_code_fails() -> None:
    from firmware.camera.emulated import EmulatedCamera

    other = cv2.cvtColor(render_card("4006381333931"), cv2.COLOR_GRAY2BGR)
    result = st.check_camera(EmulatedCamera([other]).open(), frames=2)
    assert result.status == st.FAIL and "read 4006381333931 instead" in result.detail


def test_storage_fails_when_it_cannot_be_written_or_is_nearly_full(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "journal.db").write_bytes(b"x" * 2_000_000)
    result = st.check_storage(tmp_path)
    assert result.status == st.OK and "journal 2.0 MB" in result.detail
    assert st.check_storage(tmp_path, min_free_mb=1e12).status == st.FAIL

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(st.tempfile, "mkstemp", read_only)
    result = st.check_storage(tmp_path)
    assert result.status == st.FAIL and "Read-only file system" in result.detail


def test_clock_rules() -> None:
    assert st.check_clock(now=1000.0, floor_unix=2000.0).status == st.FAIL
    assert st.check_clock(now=5e9, floor_unix=0.0).status == st.FAIL
    assert st.check_clock(now=2000.0, floor_unix=1000.0, store_time=2000.0 + 600).status == st.FAIL
    assert st.check_clock(now=2000.0, floor_unix=1000.0, store_time=2010.0).status == st.OK


def test_scale_figures_ignore_a_bump_in_the_noise() -> None:
    cal = Calibration(0.0, 1.0)
    rng = np.random.default_rng(1)
    grams = list(rng.normal(0, 0.5, 800))
    grams[400:440] = [50.0] * 40  # someone knocks the basket once
    figures = st.scale_figures(grams, cal, 80.0)
    assert figures["noise_g"] == pytest.approx(0.5, rel=0.15)
    assert abs(figures["drift_g"]) < 0.2
