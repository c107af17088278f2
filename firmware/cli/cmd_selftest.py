"""`cartctl selftest [--port P] [--camera C] [--store URL] [--state-dir D] [--seconds 30] [--config FILE]`: check the
cart's parts one by one, one line each (ok / FAIL / skip), then a summary line. Exit code 0 when no
check failed, 1 otherwise, 2 on bad usage: for scripts and rigs.

Defaults come from cartd's config (`--config`): the scale port and calibration, the camera, the
store URL, the verifier. `--camera test-card` shows the camera check an emulated camera holding the
test card; `--write-card FILE` writes the card (PNG) for printing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_DIVISION_G = 10.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "selftest", help="check camera, scale, model, store, storage and clock; exit 0 if all ok"
    )
    parser.add_argument("--config", help="cartd config to take the parts from")
    parser.add_argument("--port", help="scale MCU serial port (default: the config's [scale] port)")
    parser.add_argument("--calibration", help="calibration TOML (default: the config's, else the standard path)")
    parser.add_argument("--camera", help="V4L2 index or device, an image file, 'test-card' or 'none'")
    parser.add_argument("--store", help="store base URL (default: the config's [store] url)")
    parser.add_argument("--verifier", help="verifier to load (default: the config's, else 'rule')")
    parser.add_argument("--profile", help="device profile: the division e the scale is checked against")
    parser.add_argument("--state-dir", help="cartd's state folder (default: the config's, else /var/lib/smartcart)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the scale is watched (default 30)")
    parser.add_argument("--json", action="store_true", help="one JSON object a check, then a summary object")
    parser.add_argument("--write-card", metavar="FILE", help="write the test card image and exit")
    parser.set_defaults(func=run)


def _capture(spec: str) -> Any:
    import cv2

    from firmware.camera.camera import CameraSettings, open_v4l2
    from firmware.camera.emulated import EmulatedCamera
    from firmware.camera.sources import load_image
    from firmware.tech.testcard import render_card

    if spec == "test-card":
        return EmulatedCamera([cv2.cvtColor(render_card(), cv2.COLOR_GRAY2BGR)]).open()
    if spec.isdigit():
        return open_v4l2(CameraSettings(device=int(spec)))
    if spec.startswith("/dev/"):
        return open_v4l2(CameraSettings(device=spec))
    return EmulatedCamera([load_image(Path(spec))]).open()


def _checks(args: argparse.Namespace, config: Any) -> list[Any]:
    from firmware.scale.calibration import CalibrationError, load
    from firmware.tech import selftest as st
    from firmware.tech.profiles import load_profile
    from firmware.tech.settle import RawReader

    results = []
    camera = args.camera or (config.camera.source if config else "none")
    if camera == "none":
        results.append(st.CheckResult("camera", st.SKIP, "no camera configured"))
    else:
        try:
            results.append(st.check_camera(_capture(camera)))
        except Exception as exc:  # a camera that cannot even be opened is a failed check, not a crash
            results.append(st.CheckResult("camera", st.FAIL, f"cannot open camera {camera!r}: {exc}"))
    port = args.port or (config.scale.port if config else "")
    if not port:
        results.append(st.CheckResult("scale", st.SKIP, "no scale port configured"))
    else:
        division = load_profile(args.profile).scale.division_g if args.profile else DEFAULT_DIVISION_G
        try:
            calibration = load(args.calibration or (config.scale.calibration if config else None) or None)
        except CalibrationError as exc:
            results.append(st.CheckResult("scale", st.FAIL, f"{exc}; run cartctl calibrate"))
        else:
            results.append(st.check_scale(RawReader.open(port), calibration, args.seconds, division))
    results.append(st.check_model(args.verifier or (config.verifier.name if config else "rule")))
    store = args.store or (config.store.url if config else "")
    store_time = None
    if not store:
        results.append(st.CheckResult("store", st.SKIP, "no store URL configured"))
    else:
        result, store_time = st.check_store(store)
        results.append(result)
    from firmware.daemon.config import DaemonSection

    state_dir = args.state_dir or (config.daemon.state_dir if config else DaemonSection().state_dir)
    results.append(st.check_storage(Path(state_dir)))
    results.append(st.check_clock(store_time=store_time))
    return results


def run(args: argparse.Namespace) -> int:
    from firmware.daemon.config import ConfigError, load_config
    from firmware.tech import selftest as st
    from firmware.tech.profiles import ProfileError
    from firmware.tech.testcard import TEST_CARD_CODE, write_card

    if args.write_card:
        try:
            path = write_card(args.write_card)
        except OSError as exc:
            print(f"cartctl selftest: {exc}", file=sys.stderr)
            return 2
        print(f"test card {TEST_CARD_CODE} written to {path}")
        return 0
    if not args.seconds > 0:
        print("cartctl selftest: --seconds must be positive", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config) if args.config else None
        results = _checks(args, config)
    except (ConfigError, ProfileError) as exc:
        print(f"cartctl selftest: {exc}", file=sys.stderr)
        return 2
    for result in results:
        if args.json:
            print(
                json.dumps({"check": result.name, "status": result.status, "detail": result.detail, **result.figures}),
                flush=True,
            )
        else:
            print(result.line(), flush=True)
    code, text = st.summary(results)
    print(json.dumps({"summary": text, "exit": code}) if args.json else text)
    return code
