"""Raw scale readings for the technician tools: a reader of raw HX711 counts over the scale link
(`RawReader`, on the same SerialScaleSource the cart uses, with a unit calibration), and the test
for whether a stretch of readings is still (`measure`, `Window.stable`).

Still, here, does not depend on knowing counts per gram (calibration has not happened yet): the
variance of a window splits into white noise, estimated from sample-to-sample differences
(var(diff) = 2 sigma² for white noise), and a slow part (a swing, a drift, a settling step) that
is what is left: slow² = var - var(diff) / 2. A window is still when its slow part is no larger
than its white noise, or than a small floor (for a quiet chip, whose slow part is tiny anyway).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from firmware.core.events import ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale.calibration import Calibration
from firmware.scale.source import ScaleSource, SerialScaleSource

UNIT = Calibration(offset=0.0, counts_per_gram=1.0)  # the source then reports raw counts


class ScaleUnavailable(RuntimeError):
    """The scale did not deliver readings (link down, chip silent, protocol refused)."""


@dataclass(frozen=True, slots=True)
class Window:
    n: int
    mean: float
    sd: float  # all of the spread
    noise_sd: float  # the white part, from sample-to-sample differences
    slow_sd: float  # the slow part: swing, drift, a load still settling

    def stable(self, floor: float, k: float = 1.0) -> bool:
        return self.n >= 8 and self.slow_sd <= max(k * self.noise_sd, floor)

    def describe(self, counts_per_gram: float) -> str:
        cpg = abs(counts_per_gram)
        return f"slow movement ±{self.slow_sd / cpg:.2f} g against noise ±{self.noise_sd / cpg:.2f} g"


def measure(values: list[float]) -> Window:
    n = len(values)
    if n < 2:
        raise ValueError("a window needs at least two readings")
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    diffs = [b - a for a, b in itertools.pairwise(values)]
    dmean = math.fsum(diffs) / len(diffs)
    var_diff = math.fsum((d - dmean) ** 2 for d in diffs) / max(1, len(diffs) - 1)
    noise_var = var_diff / 2.0
    slow_var = max(0.0, var - noise_var)
    return Window(n, mean, math.sqrt(var), math.sqrt(noise_var), math.sqrt(slow_var))


def block_means_sd(values: list[float], block: int) -> float | None:
    """Standard deviation of the means of consecutive blocks (None with fewer than six blocks)."""
    if block < 1:
        raise ValueError("block must be at least one reading")
    means = [math.fsum(values[i : i + block]) / block for i in range(0, len(values) - block + 1, block)]
    if len(means) < 6:
        return None
    mean = math.fsum(means) / len(means)
    return math.sqrt(math.fsum((m - mean) ** 2 for m in means) / (len(means) - 1))


class RawReader:
    """Raw counts from the scale; raises ScaleUnavailable once the scale has been faulted (or never
    answered) for `fault_grace_s`."""

    def __init__(
        self,
        source: ScaleSource,
        fault_grace_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.fault_grace_s = fault_grace_s
        self.clock = clock
        self.sps = 80.0
        self.fault: str | None = None
        self._bad_since: float | None = clock()  # nothing received yet

    @classmethod
    def open(cls, port: str, fault_grace_s: float = 3.0) -> RawReader:
        return cls(SerialScaleSource(port, UNIT), fault_grace_s)

    def read(self, timeout_s: float = 0.1) -> list[float]:
        out: list[float] = []
        for event in self.source.poll(timeout_s):
            if isinstance(event, ScaleSampled):
                out.extend(event.values_g)
                self.sps = event.sps
                self._bad_since = None
                self.fault = None
            elif isinstance(event, ScaleFaulted):
                self.fault = event.reason
                self._bad_since = self.clock()
            elif isinstance(event, ScaleRestored):
                self.fault = None
        if self._bad_since is not None and self.clock() - self._bad_since > self.fault_grace_s:
            refused = getattr(self.source, "refused", None)
            reason = refused or self.fault or "no readings arrived"
            raise ScaleUnavailable(f"the scale gave no readings for {self.fault_grace_s:g} s: {reason}")
        return out

    def collect(self, seconds: float) -> list[float]:
        """Readings over the next `seconds` of samples (counted in samples, not wall time)."""
        want = max(2, round(seconds * self.sps))
        out: list[float] = []
        while len(out) < want:
            out.extend(self.read(0.1))
            want = max(2, round(seconds * self.sps))
        return out[:want]

    def close(self) -> None:
        self.source.close()
