"""`cartctl calibrate --port P [--mass G ...] [--yes] [--out FILE] [--profile NAME]`: guided scale
calibration. Tare the empty basket, weigh known masses (the largest sets counts per gram, the
others check linearity), move one over each corner on multi-cell platforms, then write offset,
counts per gram, date and reference mass to the calibration TOML, and report the build against the
legal-for-trade arithmetic (OIML R76 class III).

`--mass 1000 --yes` runs without prompts (rigs): it waits for the empty basket to settle, then for
the mass to be placed and settle. Exit codes: 0 written, 1 refused or abandoned, 2 usage or scale
unavailable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("calibrate", help="guided scale calibration (tare, known masses, corners)")
    parser.add_argument("--port", required=True, help="scale MCU serial port or pyserial URL")
    parser.add_argument(
        "--mass", type=float, action="append", default=[], metavar="G", help="reference mass in grams (repeatable)"
    )
    parser.add_argument("--yes", action="store_true", help="no prompts: wait for each load to settle, then write")
    parser.add_argument("--out", help="calibration TOML (default $SMARTCART_CALIBRATION, else /var/lib/smartcart/)")
    parser.add_argument("--profile", help="device profile (capacity, cells, expected sensitivity)")
    parser.add_argument("--corners", type=int, default=None, help="corner placements (default: the profile's cells)")
    parser.add_argument("--max-g", type=float, default=None, help="Max for the legal arithmetic (default: profile)")
    parser.add_argument("--timeout", type=float, default=60.0, help="--yes: seconds to wait for each settle")
    parser.add_argument("--tare-seconds", type=float, default=5.0, help="how long the empty basket is read")
    parser.add_argument("--reading-seconds", type=float, default=2.0, help="how long each load is read")
    parser.set_defaults(func=run)


class ConsoleIo:
    def say(self, text: str) -> None:
        print(text, flush=True)

    def ask(self, prompt: str) -> str:
        try:
            return input(prompt)
        except EOFError:
            return "q"


def _settings(args: argparse.Namespace, out: Any) -> Any:
    from firmware.scale.calibration import DEFAULT_CALIBRATION, CalibrationError, load
    from firmware.tech.calibrator import Settings
    from firmware.tech.profiles import load_profile

    profile = load_profile(args.profile) if args.profile else None
    try:
        nominal = load(out).counts_per_gram  # a re-calibration: the old figure is the best guess
    except CalibrationError:
        nominal = profile.expected_counts_per_gram if profile else DEFAULT_CALIBRATION.counts_per_gram
    corners = args.corners if args.corners is not None else (profile.scale.cells if profile else 0)
    if corners == 1:
        corners = 0  # one cell: no corners to compare
    for name in ("timeout", "tare_seconds", "reading_seconds"):
        if not getattr(args, name) > 0:
            raise ValueError(f"--{name.replace('_', '-')} must be positive")
    if any(not m > 0 for m in args.mass):
        raise ValueError("--mass must be positive")
    if args.yes and not args.mass:
        raise ValueError("--yes needs at least one --mass")
    max_g = args.max_g or (profile.scale.capacity_g if profile else 30000.0)
    return Settings(
        masses_g=tuple(sorted(args.mass)),
        corners=max(0, corners),
        unattended=args.yes,
        nominal_counts_per_gram=nominal,
        expected_counts_per_gram=profile.expected_counts_per_gram if profile else None,
        capacity_g=max_g,
        cell_intervals=profile.cell_intervals if profile else None,
        reading_s=args.reading_seconds,
        tare_s=args.tare_seconds,
        timeout_s=args.timeout,
    )


def run(args: argparse.Namespace) -> int:
    from firmware.scale.calibration import default_path, save
    from firmware.tech.calibrator import CalibrationAborted, Calibrator
    from firmware.tech.profiles import ProfileError
    from firmware.tech.settle import RawReader, ScaleUnavailable

    out = args.out or default_path()
    try:
        settings = _settings(args, out)
    except (ValueError, ProfileError) as exc:
        print(f"cartctl calibrate: {exc}", file=sys.stderr)
        return 2
    io = ConsoleIo()
    reader = RawReader.open(args.port)
    try:
        result = Calibrator(reader, io, settings).run()
    except CalibrationAborted as exc:
        print(f"cartctl calibrate: {exc}", file=sys.stderr)
        return 1
    except ScaleUnavailable as exc:
        print(f"cartctl calibrate: {exc}", file=sys.stderr)
        return 2
    finally:
        reader.close()
    for line in result.lines():
        print(line)
    if not args.yes:
        answer = io.ask(f"Write this calibration to {out}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("cartctl calibrate: not written", file=sys.stderr)
            return 1
    path = save(result.calibration, out)
    print(f"written: {path}")
    return 0
