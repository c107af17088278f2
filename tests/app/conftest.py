"""Fixtures for the app tests: a headless Kivy window (Mesa EGL through SDL's offscreen driver),
a fake cartd on a Unix socket, and a harness that runs the real app's widgets frame by frame.

Kivy's window is process-global, so it is opened once per test process; before that, a child
process checks that a window can be opened at all (without EGL Kivy exits the process with 102),
and every test here is skipped with the reason if not.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.fake_cartd import FakeCartd

_KIVY_HOME = tempfile.mkdtemp(prefix="cart-app-kivy-")
KIVY_ENV = {
    "KIVY_HOME": _KIVY_HOME,
    "KIVY_NO_ARGS": "1",
    "KIVY_NO_CONSOLELOG": "1",
    "KIVY_NO_FILELOG": "1",
    "KIVY_LOG_MODE": "PYTHON",  # leave the root logger to pytest
    "KIVY_IMAGE": "sdl2",  # as cart-app sets it
    "KIVY_CLIPBOARD": "sdl2",
}
for _name, _value in KIVY_ENV.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from cart_app.main import configure_window  # noqa: E402 (the environment above must come first)

configure_window(800, 480)  # before anything imports kivy.core.window, which opens the window

REPO = Path(__file__).resolve().parents[2]
PROBE = "from kivy.core.window import Window; import sys; sys.exit(0 if Window is not None else 5)"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


@pytest.fixture(scope="session")
def kivy_works() -> None:
    """Skip (with the reason) unless a child process can open Kivy's window here."""
    probe = subprocess.run([sys.executable, "-c", PROBE], env=child_env(), capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(
            f"Kivy cannot open a window here (exit code {probe.returncode}); the app tests need Mesa EGL "
            "(Debian: libegl1 libgl1-mesa-dri) and SDL's offscreen driver"
        )


@pytest.fixture(scope="session")
def kivy_window(kivy_works: None) -> object:
    from kivy.base import EventLoop

    EventLoop.ensure_window()
    return EventLoop.window


@pytest.fixture
def socket_path() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="cartd-"))  # short: Unix socket paths are limited to 107 bytes
    yield folder / "cartd.sock"
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()


@pytest.fixture
def fake(socket_path: Path) -> Iterator[FakeCartd]:
    with FakeCartd(socket_path) as server:
        yield server


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: docs/screenshots when SMARTCART_SCREENSHOT_DIR says so, else a temp folder."""
    chosen = os.environ.get("SMARTCART_SCREENSHOT_DIR")
    return Path(chosen) if chosen else tmp_path


@pytest.fixture
def ui(kivy_window: object, fake: FakeCartd, shots: Path) -> Iterator[object]:
    from tests.app.harness import Harness

    harness = Harness(fake, shots)
    yield harness
    harness.close()
