"""Device profiles (`hardware/profiles/*.toml`): one per cart build, saying which MCU board and pins
the HX711 is wired to, and what the load cells are. `cartctl flash --profile` renders the board
pin file from it, `cartctl calibrate` and `cartctl selftest` take the scale's capacity, division
and expected sensitivity from it. Validated at load (CI loads every profile in the repo): unknown
sections or keys are errors naming them, pins are checked against what the chip can do.

    [profile]   name, description
    [mcu]       chip ("rp2040" | "esp32"), board, link ("usb" | "uart"), data_pin, clock_pin,
                rate_pin (-1: RATE strapped on the HX711 board), use_pio, uart_id, uart_tx_pin,
                uart_rx_pin, baud, watchdog_ms
    [scale]     cells, cell_capacity_kg, cell_rated_output_mv_per_v, cell_accuracy_class
                ("C1".."C6" or "none"), capacity_g (Max), division_g (e), gain, sps
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.tomlsections import parse_section

REPO = Path(__file__).resolve().parents[2]
PROFILE_DIR = REPO / "hardware" / "profiles"
BOARD_FILE = REPO / "firmware" / "mcu" / "scale_mcu" / "scale_mcu" / "board.py"

HX711_FULL_SCALE_COUNTS = 2**23  # the ADC's positive full scale
HX711_GAINS = (32, 64, 128)
HX711_RATES_SPS = (10, 80)
# OIML R60 load-cell classes: C3 means 3000 verification intervals (n_LC)
CELL_CLASS_INTERVALS = {"C1": 1000, "C2": 2000, "C3": 3000, "C4": 4000, "C5": 5000, "C6": 6000}

RP2040_USABLE_GPIO = set(range(0, 23)) | {26, 27, 28}  # Pico header; 23-25 and 29 are on-board
ESP32_FLASH_GPIO = set(range(6, 12))  # wired to the SPI flash: never usable
ESP32_INPUT_ONLY_GPIO = {34, 35, 36, 37, 38, 39}
ESP32_STRAPPING_GPIO = {0, 2, 5, 12, 15}  # sampled at reset: a driven level can stop the boot
ESP32_GPIO = (set(range(0, 40)) - {20, 24, 28, 29, 30, 31}) - ESP32_FLASH_GPIO


class ProfileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ProfileSection:
    name: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class McuSection:
    chip: str = "rp2040"
    board: str = "rp2-pico"
    link: str = "usb"
    data_pin: int = 2
    clock_pin: int = 3
    rate_pin: int = -1
    use_pio: bool = False
    uart_id: int = -1
    uart_tx_pin: int = -1
    uart_rx_pin: int = -1
    baud: int = 115200
    watchdog_ms: int = 2000


@dataclass(frozen=True, slots=True)
class ScaleSection:
    cells: int = 4
    cell_capacity_kg: float = 50.0
    cell_rated_output_mv_per_v: float = 1.0
    cell_accuracy_class: str = "none"
    capacity_g: float = 30000.0
    division_g: float = 10.0
    gain: int = 128
    sps: int = 80


@dataclass(frozen=True, slots=True)
class Profile:
    path: Path
    profile: ProfileSection
    mcu: McuSection
    scale: ScaleSection

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def cell_intervals(self) -> int | None:
        """n_LC of the load cells (OIML R60), None when they carry no class."""
        return CELL_CLASS_INTERVALS.get(self.scale.cell_accuracy_class)

    @property
    def expected_counts_per_gram(self) -> float:
        """Counts per gram the wiring should give: the cells' rated output (mV/V, ratiometric with the
        HX711's excitation) at the summed capacity, over the ADC's input range (±0.5 AVDD / gain)."""
        s = self.scale
        total_g = s.cells * s.cell_capacity_kg * 1000.0  # summed cells give the rated output at the sum
        full_scale_v_per_v = 0.5 / s.gain
        output_v_per_v_per_g = s.cell_rated_output_mv_per_v * 1e-3 / total_g
        return output_v_per_v_per_g / full_scale_v_per_v * HX711_FULL_SCALE_COUNTS


def parse_profile(data: dict[str, Any], path: Path) -> Profile:
    sections = {"profile": ProfileSection, "mcu": McuSection, "scale": ScaleSection}
    for name in data:
        if name not in sections:
            raise ProfileError(f"{path}: unknown section [{name}] (known: {', '.join(sections)})")
    for name in sections:
        if name not in data:
            raise ProfileError(f"{path}: missing section [{name}]")
    built = {name: parse_section(cls, data[name], f"{path}: [{name}]", ProfileError) for name, cls in sections.items()}
    profile = Profile(path, **built)
    _check(profile)
    return profile


def load_profile(name_or_path: str | Path) -> Profile:
    """A profile by file path, or by name from hardware/profiles/."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = PROFILE_DIR / f"{name_or_path}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(p.stem for p in sorted(PROFILE_DIR.glob("*.toml")))
        raise ProfileError(f"no device profile {name_or_path!r} (in {PROFILE_DIR}: {known})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from None
    return parse_profile(data, path)


def all_profiles() -> list[Profile]:
    return [load_profile(p) for p in sorted(PROFILE_DIR.glob("*.toml"))]


def _fail(profile: Profile, message: str) -> None:
    raise ProfileError(f"{profile.path}: {message}")


def _check_pins(profile: Profile) -> None:
    m = profile.mcu
    outputs = {"clock_pin": m.clock_pin}
    inputs = {"data_pin": m.data_pin}
    if m.rate_pin != -1:
        outputs["rate_pin"] = m.rate_pin
    if m.link == "uart":
        outputs["uart_tx_pin"] = m.uart_tx_pin
        inputs["uart_rx_pin"] = m.uart_rx_pin
    used = {**outputs, **inputs}
    seen: dict[int, str] = {}
    for key, pin in used.items():
        if pin in seen:
            _fail(profile, f"[mcu] {key} and {seen[pin]} are both GPIO {pin}")
        seen[pin] = key
        if m.chip == "rp2040" and pin not in RP2040_USABLE_GPIO:
            _fail(profile, f"[mcu] {key} = {pin}: not a GPIO on the Pico header (0-22, 26-28)")
        if m.chip == "esp32":
            if pin in ESP32_FLASH_GPIO:
                _fail(profile, f"[mcu] {key} = {pin}: GPIO 6-11 drive the ESP32's SPI flash")
            if pin not in ESP32_GPIO:
                _fail(profile, f"[mcu] {key} = {pin}: the ESP32 has no GPIO {pin}")
            if pin in ESP32_STRAPPING_GPIO:
                _fail(profile, f"[mcu] {key} = {pin}: a strapping pin; the HX711 can hold it at reset")
    if m.chip == "esp32":
        for key, pin in outputs.items():
            if pin in ESP32_INPUT_ONLY_GPIO:
                _fail(profile, f"[mcu] {key} = {pin}: GPIO 34-39 are input-only on the ESP32")


def _check(profile: Profile) -> None:
    p, m, s = profile.profile, profile.mcu, profile.scale
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", p.name):
        _fail(profile, f"[profile] name must be lower-case letters, digits and '-', got {p.name!r}")
    if profile.path.suffix == ".toml" and profile.path.stem != p.name:
        _fail(profile, f"[profile] name {p.name!r} differs from the file name {profile.path.name!r}")
    if m.chip not in ("rp2040", "esp32"):
        _fail(profile, f"[mcu] chip must be rp2040 or esp32, got {m.chip!r}")
    if not m.board or len(m.board.encode()) > 32:
        _fail(profile, "[mcu] board must be 1..32 bytes (the IDENTIFY answer carries it)")
    if m.link not in ("usb", "uart"):
        _fail(profile, f"[mcu] link must be usb or uart, got {m.link!r}")
    if m.link == "uart" and (m.uart_id < 0 or m.uart_tx_pin < 0 or m.uart_rx_pin < 0):
        _fail(profile, "[mcu] link = uart needs uart_id, uart_tx_pin and uart_rx_pin")
    if m.use_pio and m.chip != "rp2040":
        _fail(profile, "[mcu] use_pio needs an RP2040 (PIO state machines)")
    if m.watchdog_ms < 500:
        _fail(profile, "[mcu] watchdog_ms below 500 resets the MCU during normal USB stalls")
    _check_pins(profile)
    if s.cells not in (1, 2, 4):
        _fail(profile, f"[scale] cells must be 1 (full-bridge cell), 2 or 4 (half-bridge cells), got {s.cells}")
    if s.cell_accuracy_class != "none" and s.cell_accuracy_class not in CELL_CLASS_INTERVALS:
        _fail(profile, f"[scale] cell_accuracy_class must be one of C1..C6 or none, got {s.cell_accuracy_class!r}")
    if s.gain not in HX711_GAINS:
        _fail(profile, f"[scale] gain must be one of {HX711_GAINS}, got {s.gain}")
    if s.sps not in HX711_RATES_SPS:
        _fail(profile, f"[scale] sps must be 10 or 80, got {s.sps}")
    for key in ("cell_capacity_kg", "cell_rated_output_mv_per_v", "capacity_g", "division_g"):
        if not getattr(s, key) > 0:
            _fail(profile, f"[scale] {key} must be positive")
    if s.capacity_g > s.cells * s.cell_capacity_kg * 1000.0:
        _fail(profile, f"[scale] capacity_g {s.capacity_g:g} exceeds the cells' summed capacity")
    from firmware.tech.legal import is_division

    if not is_division(s.division_g):
        _fail(profile, f"[scale] division_g must be 1, 2 or 5 times a power of ten, got {s.division_g:g}")


# --- the board pin file -------------------------------------------------------------------------


def board_constants(profile: Profile) -> dict[str, str]:
    """The constants of firmware/mcu's board.py this profile sets, as Python source."""
    m, s = profile.mcu, profile.scale
    out = {
        "BOARD": repr(m.board).replace("'", '"'),
        "CLOCK_PIN": str(m.clock_pin),
        "DATA_PIN": str(m.data_pin),
        "RATE_PIN": "None" if m.rate_pin == -1 else str(m.rate_pin),
        "GAIN": str(s.gain),
        "SPS": str(s.sps),
        "UART_ID": "None" if m.link == "usb" else str(m.uart_id),
        "BAUD": str(m.baud),
        "USE_PIO": str(m.use_pio),
        "WATCHDOG_MS": str(m.watchdog_ms),
    }
    if m.uart_tx_pin >= 0:
        out["UART_TX_PIN"] = str(m.uart_tx_pin)
    if m.uart_rx_pin >= 0:
        out["UART_RX_PIN"] = str(m.uart_rx_pin)
    return out


def render_board_file(profile: Profile, template: str | None = None) -> str:
    """board.py with this profile's constants; every constant must be found in the template."""
    text = BOARD_FILE.read_text(encoding="utf-8") if template is None else template
    for name, value in board_constants(profile).items():
        pattern = re.compile(rf"^{name} = [^#\n]*?(\s*#.*)?$", re.MULTILINE)
        text, n = pattern.subn(lambda match, v=value, k=name: f"{k} = {v}{match.group(1) or ''}", text)
        if n != 1:
            raise ProfileError(f"board file has {n} assignments of {name}, expected exactly one")
    return text
