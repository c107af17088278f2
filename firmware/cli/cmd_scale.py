"""`cartctl scale`: the load-cell scale path.

cartctl scale emulate --link PATH [--trace TRACE] [--corrupt RATE] [--seed N] [--firmware-dir DIR]
cartctl scale monitor --port PATH [--seconds S] [--json] [--offset N --counts-per-gram K]
cartctl scale info --port PATH
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("scale", help="scale MCU: emulate it, monitor it, identify it")
    sub = parser.add_subparsers(dest="scale_command", required=True, metavar="ACTION")

    emulate = sub.add_parser("emulate", help="run the real MCU firmware on MicroPython behind a pty")
    emulate.add_argument("--link", required=True, help="path of the symlink to create to the pty")
    emulate.add_argument("--trace", help="cart trace whose scale samples to stream (default: idle basket)")
    emulate.add_argument(
        "--corrupt",
        type=float,
        default=0.0,
        metavar="RATE",
        help="probability that a byte is dropped or has a bit flipped (0..1)",
    )
    emulate.add_argument("--seed", type=int, default=None, help="seed for --corrupt")
    emulate.add_argument(
        "--firmware-dir",
        default=None,
        metavar="DIR",
        help="run the firmware from this emulated board filesystem (filled by cartctl flash --emulated-fs)",
    )
    emulate.set_defaults(func=_emulate)

    monitor = sub.add_parser("monitor", help="show live grams and link figures")
    monitor.add_argument("--port", required=True, help="device path or pyserial URL (socket://, loop://)")
    monitor.add_argument("--seconds", type=float, default=None, help="stop after this long")
    monitor.add_argument("--json", action="store_true", help="one JSON object a second and a last one")
    monitor.add_argument("--offset", type=float, default=None, help="zero offset, counts")
    monitor.add_argument("--counts-per-gram", type=float, default=None)
    monitor.add_argument(
        "--calibration",
        default=None,
        help="calibration TOML (default $SMARTCART_CALIBRATION, else /var/lib/smartcart/)",
    )
    monitor.set_defaults(func=_monitor)

    info = sub.add_parser("info", help="identify the scale MCU (protocol, firmware, board, rate)")
    info.add_argument("--port", required=True)
    info.set_defaults(func=_info)


def _error(message: str) -> int:
    print(f"cartctl scale: {message}", file=sys.stderr)
    return 2


def _emulate(args: argparse.Namespace) -> int:
    from firmware.scale.emulator import Emulator, EmulatorError, counts_from_trace, idle_basket_counts

    try:
        if args.trace:
            counts, sps = counts_from_trace(args.trace)
        else:
            sps = 80.0
            counts = idle_basket_counts(sps)
        emulator = Emulator(
            args.link, counts, sps, corrupt_rate=args.corrupt, seed=args.seed, firmware_dir=args.firmware_dir
        )
    except (EmulatorError, ValueError, OSError) as exc:
        return _error(str(exc))

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        emulator.start()
        print(
            f"scale emulator: {len(counts)} samples at {sps:g}/s, looping, on {args.link}"
            f" -> {emulator.link_path.resolve()}",
            file=sys.stderr,
            flush=True,
        )
        emulator.run()
    except EmulatorError as exc:
        return _error(str(exc))
    finally:
        emulator.close()
    return 0


def _calibration(args: argparse.Namespace) -> Any:
    from firmware.scale.calibration import Calibration, CalibrationError, load

    if (args.offset is None) != (args.counts_per_gram is None):
        raise CalibrationError("give both --offset and --counts-per-gram, or neither")
    if args.offset is not None:
        return Calibration(args.offset, args.counts_per_gram)
    return load(args.calibration)


def _monitor(args: argparse.Namespace) -> int:
    from firmware.scale.calibration import CalibrationError
    from firmware.scale.monitor import run_monitor
    from firmware.scale.source import SerialScaleSource

    if args.seconds is not None and args.seconds <= 0:
        return _error("--seconds must be positive")
    try:
        calibration = _calibration(args)
    except CalibrationError as exc:
        return _error(f"{exc} (or pass --offset N --counts-per-gram K)")
    source = SerialScaleSource(args.port, calibration)
    try:
        final = run_monitor(source, args.seconds, lambda line: print(line, flush=True), args.json)
    finally:
        source.close()
    if source.refused:
        print(f"cartctl scale: {source.refused}", file=sys.stderr)
        return 3
    if not final["samples"]:
        print(f"cartctl scale: no samples received from {args.port}", file=sys.stderr)
        return 1
    return 0


def _info(args: argparse.Namespace) -> int:
    from firmware.scale.link import CommandFailed, LinkLost, ProtocolMismatch, ScaleLink

    link = ScaleLink(args.port)
    try:
        link.open()
        identity = link.identify()
    except ProtocolMismatch as exc:
        print(f"cartctl scale: {exc}", file=sys.stderr)
        return 3
    except (LinkLost, CommandFailed) as exc:
        return _error(str(exc))
    finally:
        link.close()
    print(
        json.dumps(
            {
                "protocol": identity.protocol,
                "firmware": ".".join(map(str, identity.firmware)),
                "board": identity.board,
                "sps": identity.sps,
                "channels": identity.channels,
                "gain": identity.gain,
                "next_seq": identity.next_seq,
            }
        )
    )
    return 0
