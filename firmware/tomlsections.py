"""TOML tables checked against dataclasses: every key known, every value of its default's type.

Config files, device profiles and calibration files all refuse an unknown key with its name, so
a typo never silently falls back to a default.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def parse_section(cls: type, body: Any, where: str, error: type[Exception] = ValueError) -> Any:
    """Build `cls` (a dataclass whose fields all have defaults) from a TOML table."""
    if not isinstance(body, dict):
        raise error(f"{where} must be a table")
    known = {f.name for f in fields(cls)}
    defaults = cls()
    kwargs: dict[str, Any] = {}
    for key, value in body.items():
        if key not in known:
            raise error(f"{where}: unknown key '{key}' (known: {', '.join(known)})")
        default = getattr(defaults, key)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            raise error(f"{where}: '{key}' must be {type(default).__name__}, got {value!r}")
        kwargs[key] = value
    return cls(**kwargs)
