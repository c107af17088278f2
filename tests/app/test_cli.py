"""`cart-app` as a command: screenshot mode against a running (fake) cartd, exit codes, bad arguments."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cart_app.main import EXIT_NEVER_CONNECTED, main
from tests.app.conftest import child_env
from tests.app.fake_cartd import FakeCartd


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def run_app(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cart_app.main", *args]
    return subprocess.run(command, env=child_env(), capture_output=True, text=True, timeout=60)


def test_screenshot_of_the_running_cart_at_1280x800(kivy_works: None, fake: FakeCartd, tmp_path: Path, shots: Path):
    fake.update(state="shopping", session_id="cart-007-0002")
    for code in ("5012345678900", "4006381333931", "96385074"):
        fake.place(code)
    fake.place("4131", weight_g=1042)
    out = tmp_path / "big.png"
    done = run_app("--socket", str(fake.path), "--size", "1280x800", "--screenshot", str(out), "--exit-after", "1.5")
    assert done.returncode == 0, done.stderr[-2000:]
    assert png_size(out) == (1280, 800)
    assert out.stat().st_size > 10_000  # a rendered screen, not a blank one
    assert [r["op"] for r in fake.requests][:2] == ["hello", "subscribe"]
    if shots != tmp_path:
        shutil.copy(out, shots / "basket-1280x800.png")


def test_screenshot_without_cartd_exits_non_zero(kivy_works: None, tmp_path: Path) -> None:
    out = tmp_path / "alone.png"
    done = run_app("--socket", str(tmp_path / "nobody.sock"), "--screenshot", str(out), "--exit-after", "0.8")
    assert done.returncode == EXIT_NEVER_CONNECTED
    assert "never connected to cartd" in done.stderr
    assert png_size(out) == (800, 480)  # the 'connecting…' screen is still saved


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "10x10"], "at least 320x240"),
        (["--size", "big"], "WIDTHxHEIGHT"),
        (["--connect", "nohost"], "HOST:PORT"),
        (["--socket", "a", "--connect", "b:1"], "not allowed with"),
    ],
)
def test_bad_arguments_are_named(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_exit_after_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--exit-after", "0"]) == 2
    assert "positive" in capsys.readouterr().err
