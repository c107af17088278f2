"""The guided scale calibration behind `cartctl calibrate`: tare the empty basket, weigh one or more
known masses (the largest sets counts per gram, the others check linearity), optionally move one
mass over each corner (multi-cell platforms), then report and save.

Two ways to drive it, one procedure:
- guided: the technician is asked for each step and presses Enter; a reading that is not still is
  refused with what moved, and the step is asked again;
- unattended (`--yes`, rigs): each step waits for the scale to settle on a new load: the tare on
  the first still reading, each mass once the reading has left the previous level and is still.

Prompts and messages go through `Io`, so tests answer the prompts and change the load meanwhile.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from firmware.scale.calibration import Calibration
from firmware.tech.legal import Check, LegalReport, assess
from firmware.tech.settle import RawReader, Window, block_means_sd, measure


class CalibrationAborted(RuntimeError):
    pass


class Io(Protocol):
    def say(self, text: str) -> None: ...

    def ask(self, prompt: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Settings:
    masses_g: tuple[float, ...] = ()  # empty: asked for (guided only)
    corners: int = 0  # corner (eccentricity) placements of the largest mass; 0: none
    unattended: bool = False
    nominal_counts_per_gram: float = 100.0  # what the stillness floor and load detection assume
    expected_counts_per_gram: float | None = None  # from the device profile, for a wiring check
    capacity_g: float = 30000.0  # Max, for the legal arithmetic
    cell_intervals: int | None = None
    window_s: float = 1.0  # still means still over this long
    reading_s: float = 2.0  # a load reading is the mean over this long
    tare_s: float = 5.0  # the tare (and the noise figure) over this long
    indication_s: float = 0.5  # the cart's weight indication averages this long (noise of the reading)
    floor_g: float = 0.2  # stillness floor, at the nominal sensitivity
    load_min_g: float = 20.0  # a load is "placed" when the reading moved this much (nominal)
    timeout_s: float = 60.0  # unattended: give up waiting for a settle after this


@dataclass(frozen=True, slots=True)
class Reading:
    mass_g: float
    window: Window
    what: str


@dataclass
class Result:
    calibration: Calibration
    tare: Window
    noise_g: float  # per-sample white noise
    indicated_sigma_g: float  # noise of the cart's averaged indication
    readings: list[Reading]
    checks: list[Check]
    legal: LegalReport
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        c = self.calibration
        out = [
            f"offset {c.offset:.1f} counts, {c.counts_per_gram:.4f} counts/g (reference {c.reference_mass_g:g} g)",
            f"noise: {self.noise_g:.3f} g per sample, {self.indicated_sigma_g:.3f} g on the averaged reading",
        ]
        for check in self.checks:
            out.append(f"{check.what} at {check.load_g:g} g: error {check.error_g:+.2f} g")
        out += [f"warning: {w}" for w in self.warnings]
        out += self.legal.lines()
        return out


class Calibrator:
    def __init__(
        self, reader: RawReader, io: Io, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.reader = reader
        self.io = io
        self.s = settings
        self.clock = clock
        self.floor = settings.floor_g * abs(settings.nominal_counts_per_gram)
        self.load_min = settings.load_min_g * abs(settings.nominal_counts_per_gram)

    # --- readings -------------------------------------------------------------------------------

    def _samples(self, seconds: float) -> int:
        return max(8, round(seconds * self.reader.sps))

    def _refusal(self, window: Window) -> str:
        return (
            f"unstable reading refused: {window.describe(self.s.nominal_counts_per_gram)} "
            f"(at the nominal {self.s.nominal_counts_per_gram:g} counts/g); keep hands off and let the basket settle"
        )

    def _guided(self, prompt: str, accept: Callable[[Window], str | None], seconds: float) -> list[float]:
        """Asks, reads for `seconds`, refuses a reading that is not still or not acceptable."""
        while True:
            answer = self.io.ask(f"{prompt} Press Enter (q to quit). ").strip().lower()
            if answer in ("q", "quit"):
                raise CalibrationAborted("calibration abandoned; nothing written")
            for _ in range(50):  # drop what arrived while the prompt waited
                if not self.reader.read(0.0):
                    break
            values = self.reader.collect(seconds)
            window = measure(values)
            if not window.stable(self.floor):
                self.io.say(self._refusal(window))
                continue
            problem = accept(window)
            if problem is None:
                return values
            self.io.say(problem)

    def _unattended(self, what: str, accept: Callable[[Window], str | None], seconds: float) -> list[float]:
        """Waits for a still window that `accept` takes, then for `seconds` of still readings."""
        self.io.say(f"waiting for {what} ...")
        deadline = self.clock() + self.s.timeout_s
        values: list[float] = []
        last: Window | None = None
        need = self._samples(self.s.window_s)
        total = max(need, self._samples(seconds))
        while self.clock() < deadline:
            values.extend(self.reader.read(0.1))
            if len(values) < need:
                continue
            recent = measure(values[-need:])
            last = recent
            if not recent.stable(self.floor) or accept(recent) is not None:
                values = values[-need:]  # not yet: keep looking from here
                continue
            if len(values) >= total:
                whole = values[-total:]
                if measure(whole).stable(self.floor):
                    return whole
                values = values[-need:]
        if last is None:
            raise CalibrationAborted(f"no readings while waiting for {what}")
        if not last.stable(self.floor):
            raise CalibrationAborted(f"{what}: {self._refusal(last)} (waited {self.s.timeout_s:g} s)")
        raise CalibrationAborted(f"{what}: {accept(last)} (waited {self.s.timeout_s:g} s)")

    def _step(self, prompt: str, what: str, accept: Callable[[Window], str | None], seconds: float) -> Window:
        run = self._unattended if self.s.unattended else self._guided
        values = run(what if self.s.unattended else prompt, accept, seconds)
        self._last_values = values
        return measure(values)

    # --- the procedure --------------------------------------------------------------------------

    def run(self) -> Result:
        tare = self._step(
            "Empty the basket and keep hands off.", "the empty basket to settle", lambda w: None, self.s.tare_s
        )
        tare_values = self._last_values
        offset = tare.mean
        self.io.say(f"tare: {offset:.1f} counts, noise ±{tare.noise_sd:.1f} counts")
        masses = list(self.s.masses_g) or self._ask_masses()
        readings: list[Reading] = []
        previous = offset
        first_cpg: float | None = None
        for mass in masses:
            expected = None if first_cpg is None else offset + first_cpg * mass
            reading = self._load_step(
                f"Place {mass:g} g in the middle of the basket.", f"{mass:g} g placed", offset, previous, expected
            )
            if first_cpg is None:
                first_cpg = (reading.mean - offset) / mass
            readings.append(Reading(mass, reading, "centre"))
            previous = reading.mean
            self.io.say(f"{mass:g} g: {reading.mean - offset:+.1f} counts")
        reference = max(readings, key=lambda r: r.mass_g)
        cpg = (reference.window.mean - offset) / reference.mass_g
        checks = [
            Check(r.mass_g, (r.window.mean - offset) / cpg - r.mass_g, "linearity")
            for r in readings
            if r is not reference
        ]
        corners = self.s.corners
        if corners and self.s.unattended:
            self.io.say("corner test skipped: it needs a person to move the mass (run without --yes)")
            corners = 0
        for k in range(1, corners + 1):
            window = self._load_step(
                f"Move the {reference.mass_g:g} g mass over corner {k} (cell {k}).",
                f"the mass over corner {k}",
                offset,
                previous,
                require_change=False,
            )
            readings.append(Reading(reference.mass_g, window, f"corner {k}"))
            checks.append(Check(reference.mass_g, (window.mean - offset) / cpg - reference.mass_g, f"corner {k}"))
            previous = window.mean
        return self._result(offset, cpg, reference.mass_g, tare, tare_values, readings, checks)

    def _ask_masses(self) -> list[float]:
        if self.s.unattended:
            raise CalibrationAborted("unattended calibration needs --mass")
        while True:
            text = self.io.ask("Reference masses in grams, largest last (e.g. 500 1000 2000): ")
            try:
                masses = [float(t) for t in text.replace(",", " ").split()]
            except ValueError:
                self.io.say(f"not a list of numbers: {text!r}")
                continue
            if masses and all(math.isfinite(m) and m > 0 for m in masses):
                return masses
            self.io.say("give at least one positive mass")

    def _load_step(
        self,
        prompt: str,
        what: str,
        offset: float,
        previous: float,
        expected: float | None = None,
        require_change: bool = True,
    ) -> Window:
        """`expected`: the reading the first mass predicts for this one; a reading more than 10 % off
        is another mass (or a rig that skipped one) and is refused."""

        def accept(window: Window) -> str | None:
            moved = abs(window.mean - offset)
            if moved < self.load_min:
                return (
                    f"no load seen: the reading is only {moved:.0f} counts from the empty basket "
                    "(is the mass on the basket? a load-cell wire loose?)"
                )
            if require_change and self.s.unattended and abs(window.mean - previous) < self.load_min:
                return "the reading has not changed from the previous load"
            if expected is not None and abs(window.mean - expected) > 0.1 * abs(expected - offset):
                return (
                    f"the reading is {window.mean - offset:+.0f} counts; the first mass predicts "
                    f"{expected - offset:+.0f}: another mass is on the basket"
                )
            return None

        return self._step(prompt, what, accept, self.s.reading_s)

    def _result(
        self,
        offset: float,
        cpg: float,
        reference_g: float,
        tare: Window,
        tare_values: list[float],
        readings: list[Reading],
        checks: list[Check],
    ) -> Result:
        warnings = []
        if cpg < 0:
            warnings.append("the reading falls under load: the HX711's A+ and A- (or a cell's wires) are swapped")
        expected = self.s.expected_counts_per_gram
        if expected and not 0.5 <= abs(cpg) / expected <= 1.5:
            warnings.append(
                f"{abs(cpg):.2f} counts/g is far from the {expected:.2f} the device profile expects: "
                "a cell not connected, a cell reversed, or another gain"
            )
        noise_g = tare.noise_sd / abs(cpg)
        block = self._samples(self.s.indication_s)
        white = noise_g / math.sqrt(block)
        blocks = block_means_sd(tare_values, block)
        indicated = max(white, blocks / abs(cpg)) if blocks is not None else white
        legal = assess(self.s.capacity_g, indicated, self.s.cell_intervals, checks)
        calibration = Calibration(offset, cpg, dt.date.today(), reference_g)
        return Result(calibration, tare, noise_g, indicated, readings, checks, legal, warnings)
