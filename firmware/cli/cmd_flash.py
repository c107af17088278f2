"""`cartctl flash --port P [--yes] [--profile NAME] [--emulated-fs DIR]`: install the scale MCU
firmware (firmware/mcu, as its manifest lists it) on a board that already runs MicroPython, then
check with IDENTIFY that the board runs the repo's firmware version. A running scale firmware is
first asked to hand the board to its REPL (MAINTENANCE); firmware older than 1.1.0 cannot be, and
the error says how to wipe such a board once.

A real board is written through mpremote; `--emulated-fs DIR` writes an emulated board's filesystem
instead (`cartctl scale emulate --link P --firmware-dir DIR`). `--profile` renders the board pin file
from a device profile (hardware/profiles/). A bare board first needs MicroPython itself:
hardware/flashing.md. Exit codes: 0 flashed and verified, 1 flash or verification failed, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("flash", help="install the scale MCU firmware and verify it with IDENTIFY")
    parser.add_argument("--port", required=True, help="the board's serial port (/dev/ttyACM0, /dev/smartcart-scale)")
    parser.add_argument("--yes", action="store_true", help="do not ask before replacing the board's firmware")
    parser.add_argument("--profile", help="device profile whose pins to install (name or TOML file)")
    parser.add_argument("--emulated-fs", metavar="DIR", help="an emulated board's filesystem instead of mpremote")
    parser.add_argument("--mpremote", default="mpremote", help="mpremote command (default: on PATH)")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for IDENTIFY after the reset")
    parser.set_defaults(func=run)


def _error(message: str, code: int = 1) -> int:
    print(f"cartctl flash: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from firmware.tech import flasher
    from firmware.tech.profiles import ProfileError, load_profile, render_board_file

    try:
        files = flasher.plan_files()
        if args.profile:
            profile = load_profile(args.profile)
            files = flasher.with_board_file(files, render_board_file(profile))
        want = flasher.version_text(flasher.firmware_version())
        board: Any = (
            flasher.DirectoryBoard(args.emulated_fs, args.port)
            if args.emulated_fs
            else flasher.MpremoteBoard(args.port, args.mpremote)
        )
        before = flasher.identify(args.port)
    except (flasher.FlashError, ProfileError) as exc:
        return _error(str(exc), 2 if isinstance(exc, ProfileError) else 1)
    now = (
        "no scale firmware answering"
        if before is None
        else (f"scale firmware {flasher.version_text(before.firmware)} on board {before.board!r}")
    )
    size = sum(len(f.contents()) for f in files)
    print(f"{board.describe()}: {now}; installing firmware {want} ({len(files)} files, {size} bytes)")
    if not args.yes:
        answer = input("Replace the firmware on this board? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            return _error("not flashed", 1)
    bar = tqdm(total=size, unit="B", unit_scale=True, desc="flash", file=sys.stderr, disable=not sys.stderr.isatty())

    def progress(n: int, name: str) -> None:
        bar.set_postfix_str(name, refresh=False)
        bar.update(n)

    try:
        result = flasher.flash(board, args.port, files, progress, args.timeout, before)
    except flasher.FlashError as exc:
        return _error(str(exc))
    finally:
        bar.close()
    after = result.after
    if result.handover is flasher.Handover.DONE:
        print("the running scale firmware handed the board to its REPL (MAINTENANCE) for the copy")
    print(
        f"flashed {result.files} files ({result.bytes} bytes) in {result.seconds:.1f} s; board {after.board!r} "
        f"runs firmware {flasher.version_text(after.firmware)}, protocol {after.protocol}, {after.sps} samples/s"
    )
    return 0
