"""`cartctl`: the technician's and rig's command line.

Each sub-command lives in its own module `firmware/cli/cmd_<name>.py` exposing
`register(subparsers)`, which adds its parser and sets `func` (args -> exit code).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import firmware.cli as cli_package


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cartctl", description="Smart cart tools: replay, scale, camera, rig.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(cli_package.__path__), key=lambda m: m.name):
        if module_info.name.startswith("cmd_"):
            module = importlib.import_module(f"firmware.cli.{module_info.name}")
            module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
