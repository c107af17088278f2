"""Where a scenario is played: `replay` (in-process, on a simulated clock), `emulated` (a whole
`cartd --emulate` subprocess with its MCU emulator and synthetic camera, watched through the local
API), or `serial:PATH` (a real cart's scale on PATH, the steps given to a person or robot as
prompts). Each run compiles the scenario, plays it, and checks the cart's report.
"""

from __future__ import annotations

import itertools
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from firmware.core.catalog import CatalogError
from firmware.core.events import ScaleSampled
from firmware.core.trace import TraceError, read_trace
from firmware.replay import CatalogCache, replay_path
from firmware.verifiers import VERIFIER_NAMES, make_verifier
from tools.hil.compiler import Compiled, compile_scenario, scan_times
from tools.hil.expect import check
from tools.hil.scenario import Scenario, ScenarioError

REPEAT_GAP_S = 0.8  # the emulated camera must see a code gone this long to read it again
PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"


@dataclass(slots=True)
class RunResult:
    scenario: Scenario
    target: str
    status: str = ERROR
    problems: list[str] = field(default_factory=list)
    message: str = ""  # why it errored or was skipped
    report: dict[str, Any] | None = None
    compiled: Compiled | None = None
    wall_s: float = 0.0
    samples_t: np.ndarray | None = None  # what the scale read, for the plot (session seconds, grams)
    samples_g: np.ndarray | None = None
    log: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (PASSED, SKIPPED)


@dataclass(frozen=True, slots=True)
class Target:
    kind: str  # "replay" | "emulated" | "serial"
    port: str = ""

    @property
    def name(self) -> str:
        return f"serial:{self.port}" if self.kind == "serial" else self.kind


def parse_target(text: str) -> Target:
    if text in ("replay", "emulated"):
        return Target(text)
    if text.startswith("serial:") and len(text) > len("serial:"):
        return Target("serial", text[len("serial:") :])
    raise ValueError(f"target must be replay, emulated or serial:PATH, got {text!r}")


def cannot_play(scenario: Scenario, target: Target) -> str | None:
    """Why this target cannot play the scenario faithfully (the run is then skipped), or None."""
    if target.kind == "replay":
        return None
    if not scenario.has_step("checkout"):
        return "the live cart ends a session only after checkout; the scenario has no checkout step"
    if target.kind == "emulated":
        if scenario.has_step("cable_pull"):
            return "the emulated scale streams the trace's samples without holes: it cannot pull its cable"
        if scenario.camera == "frames":
            return "the emulated cart draws its own camera frames; it cannot play recorded frames"
        if any("code" in step.args for step in scenario.steps if step.kind == "scan"):
            return "the emulated shopper scans with the camera, whose reader drops codes the catalog lacks"
        from firmware.daemon.emulate import SHOW_CODE_S

        scans = scan_times(scenario)
        for (t0, a), (t1, b) in itertools.pairwise(scans):
            if a == b and t1 - t0 < SHOW_CODE_S + REPEAT_GAP_S:
                return (
                    f"{a} is shown to the emulated camera twice within {t1 - t0:.1f} s; it holds a code up "
                    f"for {SHOW_CODE_S:g} s, so the camera sees one scan"
                )
    if target.kind == "serial" and scenario.has_step("camera_fault"):
        return "the serial rig reads only the scale; it has no camera to fault"
    return None


def trace_samples(compiled: Compiled) -> tuple[np.ndarray, np.ndarray]:
    """The compiled trace's load-cell samples in grams (session seconds, grams)."""
    trace = read_trace(compiled.trace_dir)
    ts, gs = [], []
    for event in trace.events:
        if isinstance(event, ScaleSampled):
            ts.append(event.t + np.arange(len(event.values_g)) / event.sps)
            gs.append(np.asarray(event.values_g))
    if not ts:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(ts), np.concatenate(gs)


def run_replay(compiled: Compiled, result: RunResult) -> dict[str, Any]:
    from firmware.camera.replay import frame_reader_for

    replayed = replay_path(compiled.trace_dir, CatalogCache(), make_verifier(VERIFIER_NAMES[0]), frame_reader_for)
    if replayed.report is None:
        raise RuntimeError(f"replay failed: {replayed.error}")
    result.samples_t, result.samples_g = trace_samples(compiled)
    return replayed.report


def run_scenario(
    scenario: Scenario,
    target: Target,
    work_dir: Path,
    *,
    calibration_path: Path | None = None,
    pace: str = "timed",
    prompt: Callable[[str], None] = print,
) -> RunResult:
    """Compile, play on the target, check. Never raises for a scenario's or a cart's failure."""
    result = RunResult(scenario, target.name)
    started = time.perf_counter()
    try:
        reason = cannot_play(scenario, target)
        if reason is not None:
            result.status, result.message = SKIPPED, reason
            return result
        compiled = compile_scenario(scenario, work_dir / scenario.name / "trace")
        result.compiled = compiled
        if target.kind == "replay":
            report = run_replay(compiled, result)
        elif target.kind == "emulated":
            from tools.hil.emulated import run_emulated

            report = run_emulated(compiled, work_dir / scenario.name, result)
        else:
            from tools.hil.serial_rig import load_rig_calibration, run_serial

            calibration = load_rig_calibration(calibration_path, compiled)
            report = run_serial(compiled, target.port, calibration, result, pace=pace, prompt=prompt)
        result.report = report
        result.problems = check(report, compiled)
        result.status = FAILED if result.problems else PASSED
    except (ScenarioError, TraceError, CatalogError) as exc:
        result.status, result.message = ERROR, str(exc)
    except Exception as exc:  # a crash of the rig or the cart is a result to report, not a rig crash
        result.status, result.message = ERROR, f"{type(exc).__name__}: {exc}"
        result.log += traceback.format_exc()
    finally:
        result.wall_s = time.perf_counter() - started
    return result
