"""Writing the small TOML files the technician tools own (the cart's config): tables of scalars,
written atomically. tomllib only reads; what is written here is read back by tomllib in the tests."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from firmware.fileio import write_atomic  # noqa: F401 - re-exported for the technician tools

BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    # a JSON string is a TOML basic string, except that TOML also wants DEL escaped
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def dumps(tables: dict[str, dict[str, Any]], header: str = "") -> str:
    lines = [f"# {line}" for line in header.splitlines()]
    for name, body in tables.items():
        if not isinstance(body, dict):
            raise TypeError(f"[{name}] must be a table")
        if lines:
            lines.append("")
        lines.append(f"[{_key(name)}]")
        lines.extend(f"{_key(k)} = {value_text(v)}" for k, v in body.items())
    return "\n".join(lines) + "\n"
