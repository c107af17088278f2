"""`cartctl flash`: the running firmware hands the board to its REPL (MAINTENANCE), the manifest's
files land on the board and IDENTIFY then reports the repo's firmware version; tested on an emulated
board whose filesystem the real firmware runs from, and through the mpremote driver with a stand-in
for mpremote that, like the real one, reaches the REPL only when no firmware holds the line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from firmware.scale.fake_mcu import FakeMcu, PtyFakeMcu
from firmware.tech import flasher
from firmware.tech.flasher import DirectoryBoard, FlashError, MpremoteBoard, firmware_version, plan_files
from firmware.tech.profiles import load_profile

from .conftest import scripted_counts

REPO_VERSION = ".".join(map(str, firmware_version()))


def test_plan_follows_the_manifests() -> None:
    files = {f.remote: f.local for f in plan_files()}
    assert files["main.py"].name == "main.py"
    assert "lib/hx711/__init__.py" in files and "lib/hx711/pio_io.py" in files
    assert "lib/scale_mcu/board.py" in files and "lib/scale_mcu/frames.py" in files
    assert not any("tests" in remote or "unix" in remote for remote in files)
    assert flasher.package_roots(plan_files()) == ["lib/hx711", "lib/scale_mcu"]


def _installed(root: Path) -> None:
    for item in plan_files():
        target = root / item.remote
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.contents())


def test_flash_replaces_an_old_firmware(tmp_path: Path, emulator: Callable[..., Path], capsys) -> None:
    board = tmp_path / "board"
    _installed(board)
    version_file = board / "lib/scale_mcu/__init__.py"
    version_file.write_text(
        version_file.read_text().replace("FIRMWARE_VERSION = (", "FIRMWARE_VERSION = (0, 9, 0)  # (")
    )
    (board / "lib/scale_mcu/stale.py").write_text("# removed upstream\n")
    port = emulator(scripted_counts([(5, 0.0)]), firmware_dir=board)
    assert flasher.identify(str(port), tries=20).firmware == (0, 9, 0)

    assert main(["flash", "--port", str(port), "--emulated-fs", str(board), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "scale firmware 0.9.0" in out and f"runs firmware {REPO_VERSION}" in out
    assert "handed the board to its REPL (MAINTENANCE)" in out
    assert flasher.identify(str(port)).firmware == firmware_version()
    for item in plan_files():
        assert (board / item.remote).read_bytes() == item.local.read_bytes()
    assert not (board / "lib/scale_mcu/stale.py").exists()


def test_flash_a_bare_board_with_a_profile(tmp_path: Path, emulator: Callable[..., Path], capsys) -> None:
    board = tmp_path / "bare"
    board.mkdir()
    port = emulator(scripted_counts([(5, 0.0)]), firmware_dir=board)  # the firmware cannot start yet
    assert (
        main(["flash", "--port", str(port), "--emulated-fs", str(board), "--yes", "--profile", "bench-5kg-pico"]) == 0
    )
    assert "no scale firmware answering" in capsys.readouterr().out
    board_py = (board / "lib/scale_mcu/board.py").read_text()
    assert 'BOARD = "rp2-pico-bench"' in board_py and "UART_ID = 0" in board_py and "RATE_PIN = None" in board_py
    assert (board / "main.py").exists()


class WrongVersionBoard(DirectoryBoard):
    """A copy that does not take: the board keeps reporting another version."""

    def put(self, remote: str, data: bytes) -> None:
        if remote.endswith("scale_mcu/__init__.py"):
            data = data.replace(b"FIRMWARE_VERSION = (", b"FIRMWARE_VERSION = (0, 0, 1)  # (")
        super().put(remote, data)


def test_flash_refuses_a_board_that_reports_another_version(tmp_path: Path, emulator: Callable[..., Path]) -> None:
    board = tmp_path / "board"
    board.mkdir()
    port = emulator(scripted_counts([(5, 0.0)]), firmware_dir=board)
    with pytest.raises(FlashError, match=f"runs firmware 0.0.1, not the repo's {REPO_VERSION}"):
        flasher.flash(WrongVersionBoard(board, str(port)), str(port), plan_files(), identify_timeout_s=10)


def test_flash_without_an_answer_times_out_cleanly(tmp_path: Path, capsys) -> None:
    board = tmp_path / "board"
    board.mkdir()
    code = main(["flash", "--port", str(tmp_path / "nothing"), "--emulated-fs", str(board), "--yes", "--timeout", "1"])
    assert code == 1
    assert "no scale firmware answered IDENTIFY" in capsys.readouterr().err


class Recorder:
    def __init__(self, fail: str | None = None, stdout: str = "micropython\n") -> None:
        self.calls: list[list[str]] = []
        self.fail = fail
        self.stdout = stdout

    def __call__(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        self.calls.append(list(argv))
        if "cp" in argv:
            assert Path(argv[argv.index("cp") + 1]).read_bytes()  # the temporary copy exists while mpremote runs
        if self.fail:
            return subprocess.CompletedProcess(argv, 1, "", f"mpremote: {self.fail}\n")
        return subprocess.CompletedProcess(argv, 0, self.stdout, "")


def test_mpremote_driver_commands() -> None:
    run = Recorder()
    board = MpremoteBoard("/dev/ttyACM0", run=run)
    board.probe()
    board.remove_tree("lib/scale_mcu")
    board.put("lib/scale_mcu/board.py", b"BOARD = 'x'\n")
    board.put("main.py", b"pass\n")
    board.reset()
    probe, remove, put_lib, put_main, reset = run.calls
    assert probe[:4] == ["mpremote", "connect", "/dev/ttyACM0", "exec"]
    assert "rm('lib/scale_mcu')" in remove[4]
    assert "os.mkdir('lib')" in put_lib[4] and "os.mkdir('lib/scale_mcu')" in put_lib[4]
    assert put_lib[5] == "+" and put_lib[6:8] == ["fs", "cp"] and put_lib[-1] == ":lib/scale_mcu/board.py"
    assert put_main[3:5] == ["fs", "cp"] and put_main[-1] == ":main.py"
    assert reset == ["mpremote", "connect", "/dev/ttyACM0", "reset"]


def test_mpremote_failures_are_clear() -> None:
    with pytest.raises(FlashError, match="reaching the REPL: mpremote: could not enter raw repl"):
        MpremoteBoard("/dev/ttyACM0", run=Recorder(fail="could not enter raw repl")).probe()
    with pytest.raises(FlashError, match="did not answer as MicroPython"):
        MpremoteBoard("/dev/ttyACM0", run=Recorder(stdout="garbage")).probe()
    missing = shutil.which("mpremote-does-not-exist") or "mpremote-does-not-exist"
    with pytest.raises(FlashError, match="pip install mpremote"):
        MpremoteBoard("/dev/ttyACM0", mpremote=missing).probe()


def test_profile_renders_into_the_plan() -> None:
    from firmware.tech.profiles import render_board_file

    files = flasher.with_board_file(plan_files(), render_board_file(load_profile("basket-4x50kg-esp32")))
    board_py = next(f for f in files if f.remote == "lib/scale_mcu/board.py").contents().decode()
    assert "DATA_PIN = 32" in board_py and 'BOARD = "esp32-devkitc"' in board_py


class FakeMpremote:
    """Stands in for mpremote on an emulated or fake board: it reaches the REPL only when no scale
    firmware answers on the port (a running firmware keeps Ctrl-C off), writes nothing, and resets
    the board with a soft reset (Ctrl-D), which the emulator's REPL honours."""

    def __init__(self, port: Path) -> None:
        self.port = port
        self.calls: list[list[str]] = []
        self.firmware_running_at_probe: list[bool] = []

    def __call__(self, argv: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        self.calls.append(list(argv))
        if argv[3] == "reset":
            fd = os.open(self.port, os.O_WRONLY | os.O_NOCTTY)
            try:
                os.write(fd, flasher.SOFT_RESET)
            finally:
                os.close(fd)
            return subprocess.CompletedProcess(argv, 0, "", "")
        if argv[3] == "exec" and "sys.implementation" in argv[4]:
            running = flasher.identify(str(self.port)) is not None
            self.firmware_running_at_probe.append(running)
            if running:
                return subprocess.CompletedProcess(argv, 1, "", "mpremote: could not enter raw repl\n")
            return subprocess.CompletedProcess(argv, 0, "micropython\n", "")
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_mpremote_takes_the_board_after_maintenance(emulator: Callable[..., Path]) -> None:
    port = emulator(scripted_counts([(5, 0.0)]))
    before = flasher.identify(str(port), tries=20)
    assert before is not None
    mpremote = FakeMpremote(port)
    board = MpremoteBoard(str(port), mpremote=sys.executable, run=mpremote)
    result = flasher.flash(board, str(port), plan_files(), identify_timeout_s=10, before=before)
    assert result.handover is flasher.Handover.DONE
    assert mpremote.firmware_running_at_probe == [False], "the firmware had left the line to the REPL"
    copied = [c[-1] for c in mpremote.calls if "cp" in c]
    assert copied == [f":{f.remote}" for f in plan_files()]
    assert mpremote.calls[-1][3] == "reset"
    assert result.after.firmware == firmware_version()


def test_old_firmware_without_maintenance_gets_the_wipe_hint(tmp_path: Path) -> None:
    with PtyFakeMcu(tmp_path / "tty", FakeMcu()) as fake:  # answers MAINTENANCE with "unknown command"
        port = fake.link_path
        assert flasher.enter_maintenance(str(port)) is flasher.Handover.REFUSED
        mpremote = FakeMpremote(port)
        board = MpremoteBoard(str(port), mpremote=sys.executable, run=mpremote)
        with pytest.raises(FlashError) as info:
            flasher.flash(board, str(port), plan_files(), identify_timeout_s=1, repl_timeout_s=1)
        assert [c for c in fake.mcu.commands if c.command == 0x16], "MAINTENANCE was asked for"
    message = str(info.value)
    assert "reaching the REPL: mpremote: could not enter raw repl" in message
    assert "older than 1.1.0" in message and "hardware/flashing.md" in message
    assert mpremote.firmware_running_at_probe == [True], "probed once, no retries without a handover"
    assert not [c for c in mpremote.calls if "cp" in c], "nothing copied"


def test_handover_outcomes(tmp_path: Path, emulator: Callable[..., Path]) -> None:
    assert flasher.enter_maintenance(str(tmp_path / "no-such-port")) is flasher.Handover.SILENT
    bare = tmp_path / "bare"
    bare.mkdir()
    port = emulator(scripted_counts([(5, 0.0)]), firmware_dir=bare)  # MicroPython, no firmware yet
    assert flasher.enter_maintenance(str(port)) is flasher.Handover.SILENT


def test_mpremote_missing_is_found_before_the_firmware_is_stopped(tmp_path: Path) -> None:
    with PtyFakeMcu(tmp_path / "tty", FakeMcu()) as fake:
        board = MpremoteBoard(str(fake.link_path), mpremote="mpremote-does-not-exist", run=Recorder())
        with pytest.raises(FlashError, match="pip install mpremote"):
            flasher.flash(board, str(fake.link_path), plan_files())
        assert not fake.mcu.commands, "nothing was sent to the board"
