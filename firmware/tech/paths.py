"""Where a cart keeps its files, as the technician tools default to them (cartd's own defaults)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = Path("/etc/smartcart/cartd.toml")
DEFAULT_SECRETS = Path("/etc/smartcart/credential.json")
