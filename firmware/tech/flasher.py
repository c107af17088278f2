"""Installing the scale MCU firmware (`cartctl flash`): a running scale firmware is first asked to
hand the board to its REPL (MAINTENANCE, PROTOCOL.md), the files the MicroPython manifests name are
copied to the board's filesystem (packages under `lib/`, `main.py` at the root, where the board runs
it at boot), the board is reset, and IDENTIFY must then report the repo's firmware version.

The copy goes through `BoardFiles`, with two drivers:
- MpremoteBoard: a real board, through `mpremote` subprocesses (the board's raw REPL);
- DirectoryBoard: an emulated board, whose filesystem is a directory the emulator imports the
  firmware from (`cartctl scale emulate --firmware-dir`); its reset is the firmware's REBOOT command,
  or a soft reset (Ctrl-D) when the board is at its REPL.
"""

from __future__ import annotations

import ast
import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from firmware.scale.link import CommandFailed, LinkLost, ProtocolMismatch, ScaleLink
from firmware.scale.protocol import AckResult, Identity, Status, StatusCause

MCU_DIR = Path(__file__).resolve().parents[1] / "mcu"
TOP_MANIFEST = MCU_DIR / "manifest.py"
VERSION_FILE = MCU_DIR / "scale_mcu" / "scale_mcu" / "__init__.py"
PACKAGE_ROOT = "lib"  # on the board, on sys.path by default
SOFT_RESET = b"\x04"  # Ctrl-D at the MicroPython REPL: soft reset, main.py runs again
HANDOVER_S = 0.2  # the firmware leaves for the REPL about 50 ms after its MAINTENANCE ACK
MAINTENANCE_SINCE = (1, 1, 0)  # first firmware that knows the MAINTENANCE command
OLD_FIRMWARE_HINT = (
    "the running scale firmware is older than {since} (it has no MAINTENANCE command) and turns the "
    "REPL's Ctrl-C off, so mpremote cannot stop it; wipe the board once, see hardware/flashing.md, "
    "'Reflashing a board that runs firmware older than {since}'"
)


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

    def preflight(self) -> None:
        """Raises FlashError if the board cannot be written for a reason on this side (a missing
        tool or directory); checked before the running firmware is asked to stop."""
        ...

    def probe(self) -> None:
        """Raises FlashError if the board's filesystem cannot be reached."""
        ...

    def remove_tree(self, remote: str) -> None: ...

    def put(self, remote: str, data: bytes) -> None: ...

    def reset(self) -> None: ...


class DirectoryBoard:
    """An emulated board's filesystem: a directory. Reset asks the running firmware to REBOOT over
    the serial link (the emulator restarts it from the directory); when nothing answers, the board
    is at its REPL (after MAINTENANCE) and gets a soft reset, Ctrl-D; a bare board restarts by itself."""

    def __init__(self, root: str | Path, port: str | None = None) -> None:
        self.root = Path(root)
        self.port = port

    def describe(self) -> str:
        return f"emulated board filesystem {self.root}"

    def preflight(self) -> None:
        if not self.root.is_dir():
            raise FlashError(f"{self.root} is not a directory (the emulated board's filesystem)")

    def probe(self) -> None:
        self.preflight()

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
        """REBOOT (or Ctrl-D when no firmware answers), then wait for the restarted firmware's BOOT
        status, so that the old firmware, still answering for a moment after its ACK, is never
        taken for the new one."""
        if self.port is None:
            return
        link = ScaleLink(self.port, tries=2)
        try:
            link.open()
            try:
                link.reboot()
            except CommandFailed:
                link.write(SOFT_RESET)  # at the REPL; a bare board restarts the firmware by itself
            deadline = time.monotonic() + boot_timeout_s
            while time.monotonic() < deadline:
                if any(isinstance(m, Status) and m.cause == StatusCause.BOOT for m in link.read(0.1)):
                    return
        except LinkLost:
            pass  # no port: identify after the reset reports it
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

    def preflight(self) -> None:
        """mpremote must be there: on PATH, or next to this Python (an unactivated virtualenv)."""
        found = shutil.which(self.mpremote) or shutil.which(self.mpremote, path=str(Path(sys.executable).parent))
        if found is None:
            raise FlashError(f"{self.mpremote} not found: pip install mpremote")
        self.mpremote = found

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


class Handover(Enum):
    """What a MAINTENANCE request got (enter_maintenance)."""

    DONE = "the running firmware handed the board to its REPL"
    REFUSED = "the running firmware does not know MAINTENANCE"
    SILENT = "no scale firmware answered"


@dataclass(frozen=True, slots=True)
class FlashResult:
    files: int
    bytes: int
    before: Identity | None
    after: Identity
    seconds: float
    handover: Handover = Handover.SILENT


def enter_maintenance(port: str) -> Handover:
    """Asks the scale firmware on `port` to stop and hand the board to the MicroPython REPL, so that
    mpremote can take it. Older firmware refuses; a bare board or one at the REPL does not answer."""
    link = ScaleLink(port, tries=2)
    try:
        link.open()
        link.maintenance()
        return Handover.DONE
    except CommandFailed as exc:
        return Handover.REFUSED if exc.result is AckResult.UNKNOWN_COMMAND else Handover.SILENT
    except LinkLost:
        return Handover.SILENT
    finally:
        link.close()


def reach_board(board: BoardFiles, handover: Handover, repl_timeout_s: float, before: Identity | None) -> None:
    """board.probe(); after a handover, retried until the board's REPL answers (a real board resets
    into it and disappears from USB for a moment). Failures name the likely cause."""
    deadline = time.monotonic() + repl_timeout_s
    if handover is Handover.DONE:
        time.sleep(HANDOVER_S)
    while True:
        try:
            board.probe()
            return
        except FlashError as exc:
            if handover is Handover.DONE and time.monotonic() < deadline:
                time.sleep(0.5)
                continue
            if handover is Handover.DONE:
                raise FlashError(
                    f"{exc} (the scale firmware accepted MAINTENANCE, but the board's REPL did not answer "
                    f"within {repl_timeout_s:g} s)"
                ) from None
            if handover is Handover.REFUSED or (before is not None and tuple(before.firmware) < MAINTENANCE_SINCE):
                hint = OLD_FIRMWARE_HINT.format(since=version_text(MAINTENANCE_SINCE))
                raise FlashError(f"{exc}\n{hint}") from None
            raise


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
    repl_timeout_s: float = 15.0,
) -> FlashResult:
    """Hands the board to its REPL, copies `files`, resets the board and checks it now runs the
    repo's firmware version."""
    start = time.monotonic()
    want = firmware_version()
    board.preflight()  # before the running firmware is stopped
    handover = enter_maintenance(port)
    reach_board(board, handover, repl_timeout_s, before)
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
    return FlashResult(len(files), total, before, after, time.monotonic() - start, handover)
