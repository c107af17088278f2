"""`cartctl hil`: the hardware-in-the-loop rig.

    cartctl hil run SCENARIO... --target replay|emulated|serial:PATH [--junit FILE] [--report DIR]
    cartctl hil record --port P [--camera C] [--seconds S] --out TRACE
    cartctl hil compile SCENARIO... --out DIR

Scenarios are YAML shopping stories with expectations (`tools/hil/scenario.py`); the repo ships
them in `tools/hil/scenarios/`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hil", help="hardware-in-the-loop rig: run scenarios, record real carts", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="hil_command", required=True, metavar="ACTION")

    run = sub.add_parser("run", help="play scenarios against a cart and check what it did")
    run.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO", help="scenario files or folders")
    run.add_argument("--target", default="replay", help="replay (default), emulated, or serial:PATH")
    run.add_argument("--junit", type=Path, help="write JUnit XML here")
    run.add_argument("--report", type=Path, metavar="DIR", help="write the HTML report and plots here")
    run.add_argument("--work", type=Path, metavar="DIR", help="where compiled traces go (default: DIR/traces)")
    run.add_argument("--calibration", type=Path, help="serial target: the cart's calibration.toml")
    run.add_argument(
        "--pace",
        choices=("timed", "manual"),
        default="timed",
        help="serial target: prompts on the scenario's clock, or wait for Enter after each step",
    )
    run.add_argument("--jobs", type=int, default=1, help="scenarios played at once (not for serial)")
    run.add_argument(
        "--seeds", type=int, default=1, help="play each scenario on this many drawn carts (its seed, then seed+1, ...)"
    )
    run.set_defaults(func=cmd_run)

    rec = sub.add_parser("record", help="record a real cart's scale (and camera) into a cart-trace v1 folder")
    rec.add_argument("--port", required=True, help="the scale's serial port (or a pyserial URL)")
    rec.add_argument("--camera", help="/dev/videoN, a folder of images or a video file")
    rec.add_argument("--camera-fps", type=float, default=10.0, help="frame rate for a folder of images")
    rec.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    rec.add_argument("--out", type=Path, required=True, metavar="TRACE", help="the trace folder to write")
    rec.add_argument("--calibration", type=Path, help="the cart's calibration.toml (default: the cart's own)")
    rec.add_argument("--catalog", type=Path, help="catalog CSV for the trace (default: the HIL scenario catalog)")
    rec.add_argument("--frame-every", type=int, default=5, help="save every Nth frame as an image")
    rec.add_argument(
        "--frames-in-trace",
        action="store_true",
        help="write frame events (replay decodes them) instead of the camera's code events",
    )
    rec.set_defaults(func=cmd_record)

    comp = sub.add_parser("compile", help="turn scenarios into cart-trace v1 folders")
    comp.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO")
    comp.add_argument("--out", type=Path, required=True, metavar="DIR", help="one trace folder per scenario here")
    comp.set_defaults(func=cmd_compile)


def _load(paths: list[Path]) -> list:  # type: ignore[type-arg]
    from tools.hil.scenario import ScenarioError, find_scenarios, load_scenario

    scenarios, errors = [], []
    try:
        files = find_scenarios(paths)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return []
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as exc:
            errors.append(str(exc))
    names = [s.name for s in scenarios]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"two scenarios are named {name!r}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if not files:
        print("error: no scenario files found", file=sys.stderr)
    return [] if errors else scenarios


def cmd_run(args: argparse.Namespace) -> int:
    from tools.hil.reports import write_html, write_junit
    from tools.hil.targets import PASSED, SKIPPED, parse_target, run_scenario

    try:
        target = parse_target(args.target)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scenarios = _load(args.scenarios)
    if not scenarios:
        return 2
    if args.seeds > 1:
        scenarios = [replace(s, seed=s.seed + k, name=f"{s.name}@{k}") for s in scenarios for k in range(args.seeds)]
    work = args.work or (args.report / "traces" if args.report else Path(tempfile.mkdtemp(prefix="hil-")))
    jobs = 1 if target.kind == "serial" else max(1, args.jobs)

    def play(scenario):  # type: ignore[no-untyped-def]
        return run_scenario(scenario, target, work, calibration_path=args.calibration, pace=args.pace)

    results = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(play, scenarios):
            results.append(result)
            word = {PASSED: "PASS", SKIPPED: "SKIP"}.get(result.status, result.status.upper())
            detail = "; ".join(result.problems) or result.message
            print(
                f"{word:5} {result.scenario.name} ({result.wall_s:.1f} s)" + (f": {detail}" if detail else ""),
                flush=True,
            )
    if args.junit:
        write_junit(results, args.junit)
    if args.report:
        page = write_html(results, args.report)
        print(f"report: {page}")
    passed = sum(r.status == PASSED for r in results)
    skipped = sum(r.status == SKIPPED for r in results)
    bad = len(results) - passed - skipped
    print(
        f"{passed} passed, {bad} failed or errored, {skipped} skipped on {target.name} "
        f"in {sum(r.wall_s for r in results):.1f} s"
    )
    return 1 if bad else 0


def cmd_record(args: argparse.Namespace) -> int:
    from firmware.core.catalog import CatalogError
    from firmware.scale import calibration as calibration_file
    from tools.hil.record import record
    from tools.hil.scenario import default_catalog

    cal_path = args.calibration or calibration_file.default_path()
    try:
        calibration = calibration_file.load(cal_path)
    except (OSError, calibration_file.CalibrationError) as exc:
        print(f"error: calibration {cal_path}: {exc} (give --calibration FILE)", file=sys.stderr)
        return 2
    catalog = args.catalog or default_catalog()
    if args.seconds is not None and not args.seconds > 0:
        print("error: --seconds must be positive", file=sys.stderr)
        return 2
    try:
        rec = record(
            args.port,
            args.out,
            calibration,
            catalog,
            seconds=args.seconds,
            camera=args.camera,
            camera_fps=args.camera_fps,
            frame_every=args.frame_every,
            frames_in_trace=args.frames_in_trace,
        )
    except (CatalogError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    camera = f", {len(rec.scans)} scans, {rec.frames_saved} of {rec.frames_seen} frames saved" if args.camera else ""
    print(
        f"recorded {rec.seconds:.1f} s: {rec.samples} samples, {rec.scale_faults} scale faults{camera} "
        f"-> {rec.out / 'trace.jsonl'}"
    )
    return 0 if rec.samples else 1


def cmd_compile(args: argparse.Namespace) -> int:
    from tools.hil.compiler import compile_scenario
    from tools.hil.scenario import ScenarioError

    scenarios = _load(args.scenarios)
    if not scenarios:
        return 2
    for scenario in scenarios:
        try:
            compiled = compile_scenario(scenario, args.out / scenario.name)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{scenario.name}: {compiled.duration_s:.1f} s -> {compiled.trace_file}")
    return 0
