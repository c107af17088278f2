"""Installing the scale MCU firmware (`cartctl flash`): the files the MicroPython manifests name are
copied to the board's filesystem (packages under `lib/`, `main.py` at the root, where the board runs
it at boot), the board is reset, and IDENTIFY must then report the repo's firmware version.

The copy goes through `BoardFiles`, with two drivers:
- MpremoteBoard: a real board, through `mpremote` subprocesses (the board's raw REPL);
- DirectoryBoard: an emulated board, whose filesystem is a directory the emulator imports the
  firmware from (`cartctl scale emulate --firmware-dir`); its reset is the firmware's REBOOT command.
"""

from __future__ import annotations

import ast
import contextlib
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from firmware.scale.link import CommandFailed, LinkLost, ProtocolMismatch, ScaleLink
from firmware.scale.protocol import Identity, Status, StatusCause

MCU_DIR = Path(__file__).resolve().parents[1] / "mcu"
TOP_MANIFEST = MCU_DIR / "manifest.py"
VERSION_FILE = MCU_DIR / "scale_mcu" / "scale_mcu" / "__init__.py"
PACKAGE_ROOT = "lib"  # on the board, on sys.path by default


class FlashError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class BoardFile:
    local: Path
    remote: str  # path on the board, relative to its filesystem root
    data: bytes | None = None  # contents to write instead of the local file (a rendered board.py)

    def contents(self) -> bytes:
        return self.data if self.data is not None else self.local.read_bytes()


def firmware_version(path: Path = VERSION_FILE) -> tuple[int, int, int]:
    """FIRMWARE_VERSION as the repo's firmware declares it (read, not imported: it is MicroPython)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FIRMWARE_VERSION" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, tuple) and len(value) == 3 and all(isinstance(v, int) for v in value):
                return value  # type: ignore[return-value]
    raise FlashError(f"{path}: no FIRMWARE_VERSION = (major, minor, patch)")


def plan_files(manifest: Path = TOP_MANIFEST) -> list[BoardFile]:
    """The files a manifest names, with where they go on the board. The manifest is evaluated like
    MicroPython's manifestfile does: include() recurses, package() takes a folder's .py files,
    module() one file; the port's own manifest ($(PORT_DIR)) is the board's, not ours."""
    files: list[BoardFile] = []

    def evaluate(path: Path) -> None:
        base = path.parent

        def include(target: str, **_: object) -> None:
            if "$(" in target:
                return
            sub = base / target
            evaluate(sub / "manifest.py" if sub.is_dir() else sub)

        def package(name: str, files_: Iterable[str] | None = None, base_path: str = ".", **_: object) -> None:
            root = base / base_path / name
            if not root.is_dir():
                raise FlashError(f"{path}: package {name!r} not found at {root}")
            for source in sorted(root.rglob("*.py")):
                rel = source.relative_to(base / base_path).as_posix()
                files.append(BoardFile(source, f"{PACKAGE_ROOT}/{rel}"))

        def module(name: str, base_path: str = ".", **_: object) -> None:
            source = base / base_path / name
            if not source.is_file():
                raise FlashError(f"{path}: module {name!r} not found at {source}")
            files.append(BoardFile(source, name if name == "main.py" else f"{PACKAGE_ROOT}/{name}"))

        def ignore(*_: object, **__: object) -> None:
            return None

        names = {"include": include, "package": package, "module": module, "metadata": ignore, "require": ignore}
        try:
            code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except (OSError, SyntaxError) as exc:
            raise FlashError(f"cannot read manifest {path}: {exc}") from None
        exec(code, {"__builtins__": {}, **names})

    evaluate(manifest)
    remotes = [f.remote for f in files]
    if len(set(remotes)) != len(remotes):
        raise FlashError(f"{manifest}: two files go to the same place on the board")
    return files


def with_board_file(files: list[BoardFile], board_py: str) -> list[BoardFile]:
    """The plan with scale_mcu/board.py replaced by a rendered one (a device profile's pins)."""
    target = f"{PACKAGE_ROOT}/scale_mcu/board.py"
    if target not in {f.remote for f in files}:
        raise FlashError(f"the manifest installs no {target} to replace")
    return [BoardFile(f.local, f.remote, board_py.encode()) if f.remote == target else f for f in files]


def package_roots(files: list[BoardFile]) -> list[str]:
    """Folders owned by the firmware (emptied before copying, so a file removed upstream goes too)."""
    roots = {"/".join(f.remote.split("/")[:2]) for f in files if f.remote.count("/") >= 2}
    return sorted(roots)


class BoardFiles(Protocol):
    def describe(self) -> str: ...

    def probe(self) -> None:
        """Raises FlashError if the board's filesystem cannot be reached."""
        ...

    def remove_tree(self, remote: str) -> None: ...

    def put(self, remote: str, data: bytes) -> None: ...

    def reset(self) -> None: ...


class DirectoryBoard:
    """An emulated board's filesystem: a directory. Reset asks the running firmware to REBOOT over
    the serial link (the emulator restarts it from the directory); a bare board restarts by itself."""

    def __init__(self, root: str | Path, port: str | None = None) -> None:
        self.root = Path(root)
        self.port = port

    def describe(self) -> str:
        return f"emulated board filesystem {self.root}"

    def probe(self) -> None:
        if not self.root.is_dir():
            raise FlashError(f"{self.root} is not a directory (the emulated board's filesystem)")

    def _path(self, remote: str) -> Path:
        path = (self.root / remote).resolve()
        if self.root.resolve() not in path.parents:
            raise FlashError(f"refusing to write outside the board filesystem: {remote}")
        return path

    def remove_tree(self, remote: str) -> None:
        path = self._path(remote)
        if path.is_dir():
            shutil.rmtree(path)

    def put(self, remote: str, data: bytes) -> None:
        path = self._path(remote)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def reset(self, boot_timeout_s: float = 5.0) -> None:
        """REBOOT, then wait for the restarted firmware's BOOT status, so that the old firmware,
        still answering for a moment after its ACK, is never taken for the new one."""
        if self.port is None:
            return
        link = ScaleLink(self.port)
        try:
            link.open()
            link.reboot()
            deadline = time.monotonic() + boot_timeout_s
            while time.monotonic() < deadline:
                if any(isinstance(m, Status) and m.cause == StatusCause.BOOT for m in link.read(0.1)):
                    return
        except (LinkLost, CommandFailed):
            pass  # nothing answering (bare board): the emulator restarts the firmware by itself
        finally:
            link.close()


Runner = Callable[..., subprocess.CompletedProcess]


class MpremoteBoard:
    """A real board through mpremote (PyPI `mpremote`). Each step is one mpremote run, so a failure
    names the file it happened on."""

    def __init__(self, port: str, mpremote: str = "mpremote", run: Runner = subprocess.run, timeout_s: float = 60.0):
        self.port = port
        self.mpremote = mpremote
        self.run_ = run
        self.timeout_s = timeout_s

    def describe(self) -> str:
        return f"board on {self.port} (mpremote)"

    def _run(self, *args: str, what: str) -> str:
        argv = [self.mpremote, "connect", self.port, *args]
        try:
            done = self.run_(argv, capture_output=True, text=True, timeout=self.timeout_s)
        except FileNotFoundError:
            raise FlashError(f"{self.mpremote} not found: pip install mpremote") from None
        except subprocess.TimeoutExpired:
            raise FlashError(f"mpremote timed out after {self.timeout_s:g} s while {what}") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines()
            raise FlashError(f"mpremote failed while {what}: {detail[-1] if detail else f'exit {done.returncode}'}")
        return done.stdout

    def probe(self) -> None:
        out = self._run("exec", "import sys; print(sys.implementation.name)", what="reaching the REPL")
        if "micropython" not in out:
            raise FlashError(f"the board on {self.port} did not answer as MicroPython: {out.strip()!r}")

    def remove_tree(self, remote: str) -> None:
        code = (
            "import os\n"
            "def rm(p):\n"
            " try: m = os.stat(p)[0]\n"
            " except OSError: return\n"
            " if m & 0x4000:\n"
            "  for n in os.listdir(p): rm(p + '/' + n)\n"
            "  os.rmdir(p)\n"
            " else: os.remove(p)\n"
            f"rm({remote!r})\n"
        )
        self._run("exec", code, what=f"removing {remote}")

    def put(self, remote: str, data: bytes) -> None:
        import tempfile

        parts = remote.split("/")[:-1]
        mkdirs = "".join(
            f"try: os.mkdir({'/'.join(parts[: i + 1])!r})\nexcept OSError: pass\n" for i in range(len(parts))
        )
        with tempfile.NamedTemporaryFile(suffix=".py") as tmp:
            tmp.write(data)
            tmp.flush()
            args = ["exec", "import os\n" + mkdirs, "+"] if parts else []
            self._run(*args, "fs", "cp", tmp.name, f":{remote}", what=f"copying {remote}")

    def reset(self) -> None:
        self._run("reset", what="resetting the board")


@dataclass(frozen=True, slots=True)
class FlashResult:
    files: int
    bytes: int
    before: Identity | None
    after: Identity
    seconds: float


def identify(port: str, tries: int = 1, wait_s: float = 0.5) -> Identity | None:
    """The firmware's IDENTIFY answer, or None when nothing answers (bare board, REPL, no port)."""
    for attempt in range(tries):
        if attempt:
            time.sleep(wait_s)
        link = ScaleLink(port, tries=2)
        try:
            link.open()
            return link.identify()
        except (LinkLost, CommandFailed):
            continue
        except ProtocolMismatch as exc:
            raise FlashError(str(exc)) from None
        finally:
            link.close()
    return None


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def flash(
    board: BoardFiles,
    port: str,
    files: list[BoardFile],
    progress: Callable[[int, str], None] = lambda n, name: None,
    identify_timeout_s: float = 15.0,
    before: Identity | None = None,
) -> FlashResult:
    """Copies `files`, resets the board and checks it now runs the repo's firmware version."""
    start = time.monotonic()
    want = firmware_version()
    board.probe()
    for root in package_roots(files):
        board.remove_tree(root)
    total = 0
    for item in files:
        data = item.contents()
        board.put(item.remote, data)
        total += len(data)
        progress(len(data), item.remote)
    board.reset()
    deadline = time.monotonic() + identify_timeout_s
    after = None
    while after is None and time.monotonic() < deadline:
        with contextlib.suppress(FlashError):
            after = identify(port)
        if after is None:
            time.sleep(0.3)
    if after is None:
        raise FlashError(
            f"copied {len(files)} files, but no scale firmware answered IDENTIFY on {port} within "
            f"{identify_timeout_s:g} s of the reset"
        )
    if tuple(after.firmware) != want:
        raise FlashError(
            f"after flashing, {port} runs firmware {version_text(after.firmware)}, not the repo's "
            f"{version_text(want)}: the copy did not take (is main.py frozen into the board image?)"
        )
    return FlashResult(len(files), total, before, after, time.monotonic() - start)
