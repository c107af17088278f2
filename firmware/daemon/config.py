"""cartd's configuration: one TOML file, validated when the daemon starts.

Sections map to the parts of the cart; an unknown section or key is refused with its name (a
typo must not silently fall back to a default). Secrets (the cart's store credential) are never
in this file: `cartctl provision` writes them to their own file with safe permissions.

    [cart]
    id = "cart-007"
    currency = "EUR"

    [store]
    url = "https://store.example/api"      # optional: no sync without it
    catalog = "/var/lib/smartcart/catalog.csv"
    credential = "/etc/smartcart/credential.json"

    [scale]
    port = "/dev/smartcart-scale"          # device path or pyserial URL
    calibration = "/var/lib/smartcart/calibration.toml"

    [camera]
    source = "0"                            # V4L2 index, /dev/videoN, a video file, or "none"
    width = 1280
    height = 720
    fps = 30

    [verifier]
    name = "rule"

    [daemon]
    state_dir = "/var/lib/smartcart"
    listen = ""                             # "127.0.0.1:8765" for a paired phone or laptop
    keep_samples_sessions = 100             # raw load-cell samples kept for the latest N sessions
    keep_sessions = 2000                    # the journal kept for the latest N sessions
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from firmware.tomlsections import parse_section


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CartSection:
    id: str = "cart-1"
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class StoreSection:
    url: str = ""
    catalog: str = ""
    credential: str = ""  # the cart's credential file (`cartctl provision`); no sync without one


@dataclass(frozen=True, slots=True)
class ScaleSection:
    port: str = ""
    calibration: str = ""


@dataclass(frozen=True, slots=True)
class CameraSection:
    source: str = "none"
    width: int = 1280
    height: int = 720
    fps: int = 30
    exposure: float = 0.0  # 0: automatic


@dataclass(frozen=True, slots=True)
class VerifierSection:
    name: str = "rule"


@dataclass(frozen=True, slots=True)
class DaemonSection:
    state_dir: str = "/var/lib/smartcart"
    listen: str = ""
    # the journal's retention (`Journal.prune`): raw samples take about 0.15 MB a minute of shopping
    keep_samples_sessions: int = 100
    keep_sessions: int = 2000


@dataclass(frozen=True, slots=True)
class CartConfig:
    cart: CartSection = field(default_factory=CartSection)
    store: StoreSection = field(default_factory=StoreSection)
    scale: ScaleSection = field(default_factory=ScaleSection)
    camera: CameraSection = field(default_factory=CameraSection)
    verifier: VerifierSection = field(default_factory=VerifierSection)
    daemon: DaemonSection = field(default_factory=DaemonSection)

    @property
    def state_dir(self) -> Path:
        return Path(self.daemon.state_dir)


def load_config(path: str | Path) -> CartConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return parse_config(data, str(path))


def parse_config(data: dict[str, Any], source: str = "<config>") -> CartConfig:
    sections = {f.name: f for f in fields(CartConfig)}
    values: dict[str, Any] = {}
    for name, body in data.items():
        if name not in sections:
            raise ConfigError(f"{source}: unknown section [{name}] (known: {', '.join(sections)})")
        section_type = type(sections[name].default_factory())  # type: ignore[misc]
        values[name] = parse_section(section_type, body, f"{source}: [{name}]", ConfigError)
    config = CartConfig(**values)
    _check(config, source)
    return config


def _check(config: CartConfig, source: str) -> None:
    if not config.cart.id or not all(c.isalnum() or c in "-_." for c in config.cart.id):
        raise ConfigError(f"{source}: [cart] id must be letters, digits, '-', '_' or '.', got {config.cart.id!r}")
    if len(config.cart.currency) != 3 or not config.cart.currency.isalpha():
        raise ConfigError(f"{source}: [cart] currency must be an ISO 4217 code like EUR, got {config.cart.currency!r}")
    from firmware.verifiers import VERIFIER_NAMES

    if config.verifier.name not in VERIFIER_NAMES:
        raise ConfigError(f"{source}: [verifier] name must be one of {', '.join(VERIFIER_NAMES)}")
    for key in ("width", "height", "fps"):
        if getattr(config.camera, key) <= 0:
            raise ConfigError(f"{source}: [camera] {key} must be positive")
    if config.daemon.keep_samples_sessions < 1 or config.daemon.keep_sessions < config.daemon.keep_samples_sessions:
        raise ConfigError(f"{source}: [daemon] needs 1 <= keep_samples_sessions <= keep_sessions")
    if config.daemon.listen and ":" not in config.daemon.listen:
        raise ConfigError(f"{source}: [daemon] listen must be HOST:PORT, got {config.daemon.listen!r}")
