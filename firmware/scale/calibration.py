"""The cart's scale calibration: how raw HX711 counts become grams, loaded from and saved to TOML.

    grams = (counts - offset) / counts_per_gram

The file (default `$SMARTCART_CALIBRATION`, else /var/lib/smartcart/calibration.toml) is written
by the calibration tool only; the cart reads it. Unknown keys are errors naming the key.

    offset = 50000.0            # counts with the empty basket
    counts_per_gram = 100.0
    date = 2025-03-14           # when it was calibrated
    reference_mass_g = 1000.0   # the mass used to find counts_per_gram
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path("/var/lib/smartcart/calibration.toml")
ENV_VAR = "SMARTCART_CALIBRATION"
KEYS = ("offset", "counts_per_gram", "date", "reference_mass_g")


class CalibrationError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Calibration:
    offset: float
    counts_per_gram: float
    date: dt.date | None = None
    reference_mass_g: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.offset):
            raise CalibrationError("offset must be a finite number")
        if not math.isfinite(self.counts_per_gram) or self.counts_per_gram == 0:
            raise CalibrationError("counts_per_gram must be a finite, non-zero number")
        if self.reference_mass_g is not None and not self.reference_mass_g > 0:
            raise CalibrationError("reference_mass_g must be positive")

    def grams(self, counts: float) -> float:
        return (counts - self.offset) / self.counts_per_gram

    def counts(self, grams: float) -> int:
        return round(self.offset + grams * self.counts_per_gram)


# Used when a trace in grams must be streamed as counts, and by the emulator's idle basket:
# a typical 4-cell basket at gain 128 reads roughly 100 counts per gram with a small zero offset.
DEFAULT_CALIBRATION = Calibration(offset=50_000.0, counts_per_gram=100.0)


def default_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def _number(data: dict, key: str, path: Path, required: bool) -> float | None:
    if key not in data:
        if required:
            raise CalibrationError(f"{path}: missing key '{key}'")
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalibrationError(f"{path}: '{key}' must be a number, not {value!r}")
    return float(value)


def load(path: str | Path | None = None) -> Calibration:
    path = Path(path) if path is not None else default_path()
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise CalibrationError(f"no calibration file at {path} (set {ENV_VAR} or calibrate the scale)") from None
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise CalibrationError(f"{path}: cannot read: {exc}") from None
    for key in data:
        if key not in KEYS:
            raise CalibrationError(f"{path}: unknown key '{key}' (known: {', '.join(KEYS)})")
    date = data.get("date")
    if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        raise CalibrationError(f"{path}: 'date' must be a TOML date like 2025-03-14, not {date!r}")
    try:
        return Calibration(
            offset=_number(data, "offset", path, True),  # type: ignore[arg-type]
            counts_per_gram=_number(data, "counts_per_gram", path, True),  # type: ignore[arg-type]
            date=date,
            reference_mass_g=_number(data, "reference_mass_g", path, False),
        )
    except CalibrationError as exc:
        raise CalibrationError(f"{path}: {exc}") from None


def dumps(calibration: Calibration) -> str:
    lines = [
        "# Scale calibration: grams = (counts - offset) / counts_per_gram",
        f"offset = {float(calibration.offset)!r}",
        f"counts_per_gram = {float(calibration.counts_per_gram)!r}",
    ]
    if calibration.date is not None:
        lines.append(f"date = {calibration.date.isoformat()}")
    if calibration.reference_mass_g is not None:
        lines.append(f"reference_mass_g = {float(calibration.reference_mass_g)!r}")
    return "\n".join(lines) + "\n"


def save(calibration: Calibration, path: str | Path | None = None) -> Path:
    """Writes atomically (temporary file, then rename), so a power cut never leaves half a file."""
    path = Path(path) if path is not None else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(dumps(calibration))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path
