"""Legal-for-trade arithmetic for a class III non-automatic weighing instrument (OIML R76-1), applied
to what a cart build measures: which verification scale interval `e` its noise, its capacity and
its load cells allow, the number of intervals n = Max / e, the minimum capacity, and the maximum
permissible errors (MPE) per load band. Pure functions; `cartctl calibrate` prints the report.

Class III (R76-1 table 3): e = 0.1 g .. 2 g needs 100 <= n <= 10 000; e >= 5 g needs
500 <= n <= 10 000; Min = 20 e. MPE at initial verification: ±0.5 e up to 500 e, ±1 e up to
2 000 e, ±1.5 e above (twice that in service). Load cells of class C (OIML R60) must allow at least
n intervals (n_LC >= n). e is 1, 2 or 5 times a power of ten.

The noise rule used here (an engineering margin, not a clause of R76): the indicated reading's
standard deviation sigma must satisfy 3 sigma <= 0.5 e (the smallest MPE), i.e. e >= 6 sigma, so
that repeated weighings of one load stay within the repeatability limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

N_MAX = 10_000
NOISE_FACTOR = 6.0  # e >= 6 sigma
MIN_FACTOR = 20  # Min = 20 e


def is_division(e_g: float) -> bool:
    if not e_g > 0 or not math.isfinite(e_g):
        return False
    exponent = math.floor(math.log10(e_g))
    mantissa = e_g / 10**exponent
    return any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1.0, 2.0, 5.0, 10.0))


def divisions(min_g: float = 0.1, max_g: float = 1e6) -> list[float]:
    """The 1-2-5 series of scale intervals from `min_g` to `max_g`."""
    out: list[float] = []
    decade = 10 ** math.floor(math.log10(min_g))
    while decade <= max_g:
        for m in (1, 2, 5):
            e = round(m * decade, 10)
            if min_g - 1e-12 <= e <= max_g:
                out.append(e)
        decade *= 10
    return out


def n_min(e_g: float) -> int:
    return 100 if e_g <= 2.0 + 1e-9 else 500


def mpe_g(load_g: float, e_g: float, in_service: bool = False) -> float:
    """Maximum permissible error at a load, class III, initial verification (or in service)."""
    steps = abs(load_g) / e_g
    factor = 0.5 if steps <= 500 else 1.0 if steps <= 2000 else 1.5
    return factor * e_g * (2 if in_service else 1)


@dataclass(frozen=True, slots=True)
class Check:
    load_g: float
    error_g: float
    what: str  # "linearity" or "corner 2" ...


@dataclass(frozen=True, slots=True)
class LegalReport:
    max_g: float
    sigma_g: float  # standard deviation of the indicated (averaged) reading
    e_noise_g: float  # the finest e the noise allows
    e_g: float | None  # the finest e meeting every rule, None if none does
    n: int | None
    min_g: float | None
    cell_intervals: int | None
    limits: list[str]
    bands: list[tuple[float, float, float]]  # (from_g, to_g, mpe_g)
    checks: list[tuple[Check, float, bool]] = field(default_factory=list)  # (check, mpe_g, within)

    @property
    def ok(self) -> bool:
        return self.e_g is not None and all(within for _, _, within in self.checks)

    def lines(self) -> list[str]:
        out = [
            f"legal for trade, OIML R76 class III, Max {self.max_g:g} g:",
            f"  reading noise sigma {self.sigma_g:.3g} g -> noise allows e >= {self.e_noise_g:g} g (e >= 6 sigma)",
        ]
        out += [f"  {limit}" for limit in self.limits]
        if self.e_g is None:
            out.append("  no class III division fits this build")
            return out
        out.append(f"  finest division e = {self.e_g:g} g, n = Max/e = {self.n}, Min = 20e = {self.min_g:g} g")
        for lo, hi, mpe in self.bands:
            out.append(f"  MPE ±{mpe:g} g from {lo:g} g to {hi:g} g (in service ±{2 * mpe:g} g)")
        for check, mpe, within in self.checks:
            verdict = "within" if within else "EXCEEDS"
            out.append(f"  {check.what} at {check.load_g:g} g: error {check.error_g:+.2f} g, {verdict} MPE ±{mpe:g} g")
        return out


def _fits(e: float, max_g: float, cell_intervals: int | None) -> str | None:
    """Why e does not fit (None when it does)."""
    n = math.floor(max_g / e + 1e-9)
    if n > N_MAX:
        return f"n = {n} > {N_MAX}"
    if n < n_min(e):
        return f"n = {n} < {n_min(e)}"
    if cell_intervals is not None and n > cell_intervals:
        return f"n = {n} > the load cells' {cell_intervals} intervals"
    return None


def mpe_bands(max_g: float, e_g: float) -> list[tuple[float, float, float]]:
    bands = []
    for lo_e, hi_e, factor in ((0, 500, 0.5), (500, 2000, 1.0), (2000, N_MAX, 1.5)):
        lo, hi = lo_e * e_g, min(hi_e * e_g, max_g)
        if lo < max_g:
            bands.append((lo, hi, factor * e_g))
    return bands


def assess(
    max_g: float,
    sigma_g: float,
    cell_intervals: int | None = None,
    checks: list[Check] | None = None,
) -> LegalReport:
    """The finest class III division this build can claim, and its checks against that MPE."""
    if not max_g > 0:
        raise ValueError("Max must be positive")
    if not sigma_g >= 0:
        raise ValueError("noise sigma must be zero or positive")
    series = divisions(0.1, max_g / 100)
    e_noise = next((e for e in series if e >= NOISE_FACTOR * sigma_g - 1e-12), None)
    limits: list[str] = []
    chosen: float | None = None
    if e_noise is None:
        limits.append(f"noise sigma {sigma_g:.3g} g needs e >= {NOISE_FACTOR * sigma_g:.3g} g: above Max/100")
        e_noise = NOISE_FACTOR * sigma_g
    else:
        for e in series:
            if e < e_noise:
                continue
            why = _fits(e, max_g, cell_intervals)
            if why is None:
                chosen = e
                break
            limits.append(f"e = {e:g} g refused: {why}")
    report_checks: list[tuple[Check, float, bool]] = []
    if chosen is not None:
        for check in checks or []:
            mpe = mpe_g(check.load_g, chosen)
            report_checks.append((check, mpe, abs(check.error_g) <= mpe + 1e-9))
    return LegalReport(
        max_g=max_g,
        sigma_g=sigma_g,
        e_noise_g=e_noise,
        e_g=chosen,
        n=None if chosen is None else math.floor(max_g / chosen + 1e-9),
        min_g=None if chosen is None else MIN_FACTOR * chosen,
        cell_intervals=cell_intervals,
        limits=limits,
        bands=[] if chosen is None else mpe_bands(max_g, chosen),
        checks=report_checks,
    )
