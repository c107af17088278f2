"""Reader for cart-trace v1 (`shared/spec/cart-trace-v1.md`): a recorded session as core events.

Validation is strict where the spec is (header first and once, known types with the right
fields, `t` never decreasing) and every error names the file and line. Unknown event types and
unknown `input` actions are skipped for forward compatibility and counted. Load-cell values in raw
counts are converted to grams with the header's calibration, so the core only ever sees grams.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from firmware.core.events import (
    CheckoutRequested,
    CodeRead,
    Event,
    FrameCaptured,
    PluKeyed,
    RemovalAnnounced,
    ScaleSampled,
    SessionEnded,
)

TRACE_FILE = "trace.jsonl"


class TraceError(ValueError):
    """A trace that breaks the v1 contract; `str()` reads `file:line: what is wrong`."""

    def __init__(self, path: Path, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class TraceHeader:
    version: int
    catalog_path: Path
    scale_unit: str  # "g" | "counts"
    offset: float = 0.0
    counts_per_gram: float = 1.0
    cart_id: str | None = None
    session_id: str | None = None


@dataclass(slots=True)
class Trace:
    path: Path  # the trace.jsonl file
    header: TraceHeader
    events: list[Event]
    end_t: float
    skipped_lines: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The trace folder's name (the report file is named after it)."""
        return self.path.parent.name if self.path.name == TRACE_FILE else self.path.stem


def trace_file(path: str | Path) -> Path:
    """Accept a trace folder or the `trace.jsonl` inside it."""
    path = Path(path)
    return path / TRACE_FILE if path.is_dir() else path


def read_trace(path: str | Path) -> Trace:
    file = trace_file(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TraceError(file, None, "no such trace file") from None
    except UnicodeDecodeError as exc:
        raise TraceError(file, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise TraceError(file, None, f"cannot read: {exc.strerror}") from None
    return parse_trace_lines(file, text.splitlines())


def parse_trace_lines(file: Path, lines: list[str]) -> Trace:
    parser = _LineParser(file)
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            parser.feed(number, raw)
    return parser.finish(len(lines))


class _LineParser:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.header: TraceHeader | None = None
        self.events: list[Event] = []
        self.last_t = 0.0
        self.end_t: float | None = None
        self.skipped = 0
        self.warnings: list[str] = []

    def fail(self, line: int, message: str) -> TraceError:
        return TraceError(self.file, line, message)

    def feed(self, line: int, raw: str) -> None:
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise self.fail(line, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise self.fail(line, "each line must be a JSON object")
        kind = obj.get("type")
        if not isinstance(kind, str):
            raise self.fail(line, "missing string field 'type'")
        if self.header is None:
            if kind != "header":
                raise self.fail(line, f"the first line must be the header, got type {kind!r}")
            self.header = self._header(line, obj)
            return
        if kind == "header":
            raise self.fail(line, "a second header")
        if self.end_t is not None:
            raise self.fail(line, "event after the 'end' event")
        handler = getattr(self, f"_ev_{kind}", None)
        t = self._time(line, obj) if handler is not None or "t" in obj else None
        if handler is None:
            self.skipped += 1
            return
        handler(line, obj, t)

    def finish(self, line_count: int) -> Trace:
        if self.header is None:
            raise TraceError(self.file, None, "empty trace: no header line")
        end_t = self.end_t
        if end_t is None:
            end_t = max(self.last_t, self._last_sample_t())
            self.warnings.append(f"no 'end' event; the session ends at its last moment, t={end_t:.3f}")
            self.events.append(SessionEnded(end_t))
        return Trace(self.file, self.header, self.events, end_t, self.skipped, self.warnings)

    def _last_sample_t(self) -> float:
        for event in reversed(self.events):
            if isinstance(event, ScaleSampled):
                return event.t + len(event.values_g) / event.sps
        return 0.0

    # -- field helpers -------------------------------------------------------------------------

    def _number(self, line: int, obj: dict[str, Any], key: str) -> float:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(line, f"field '{key}' must be a finite number, got {value!r}")
        return float(value)

    def _string(self, line: int, obj: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
        value = obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(line, f"field '{key}' must be a non-empty string, got {value!r}")
        return value

    def _time(self, line: int, obj: dict[str, Any]) -> float:
        t = self._number(line, obj, "t")
        if t < 0:
            raise self.fail(line, f"'t' must not be negative, got {t}")
        if t < self.last_t:
            raise self.fail(line, f"'t' went back in time: {t} after {self.last_t}")
        self.last_t = t
        return t

    # -- line types ----------------------------------------------------------------------------

    def _header(self, line: int, obj: dict[str, Any]) -> TraceHeader:
        if obj.get("version") != 1:
            raise self.fail(line, f"unsupported trace version {obj.get('version')!r} (this reader knows 1)")
        catalog = self._string(line, obj, "catalog")
        scale = obj.get("scale")
        if not isinstance(scale, dict):
            raise self.fail(line, "header field 'scale' must be an object")
        unit = scale.get("unit")
        offset, cpg = 0.0, 1.0
        if unit == "counts":
            offset = self._number(line, scale, "offset")
            cpg = self._number(line, scale, "counts_per_gram")
            if cpg == 0:
                raise self.fail(line, "scale 'counts_per_gram' must not be zero")
        elif unit != "g":
            raise self.fail(line, f"scale 'unit' must be 'g' or 'counts', got {unit!r}")
        cart_id = self._string(line, obj, "cart_id", optional=True)
        session_id = self._string(line, obj, "session_id", optional=True)
        return TraceHeader(1, self.file.parent / str(catalog), unit, offset, cpg, cart_id, session_id)

    def _ev_scale(self, line: int, obj: dict[str, Any], t: float) -> None:
        sps = self._number(line, obj, "sps")
        if sps <= 0:
            raise self.fail(line, f"'sps' must be positive, got {sps}")
        values = obj.get("values")
        if not isinstance(values, list):
            raise self.fail(line, "field 'values' must be a list of numbers")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise self.fail(line, f"'values' holds a non-number {v!r}")
        assert self.header is not None
        if self.header.scale_unit == "counts":
            offset, cpg = self.header.offset, self.header.counts_per_gram
            grams = tuple((v - offset) / cpg for v in values)
        else:
            grams = tuple(float(v) for v in values)
        if grams:
            self.events.append(ScaleSampled(t, sps, grams))

    def _ev_frame(self, line: int, obj: dict[str, Any], t: float) -> None:
        image = self._string(line, obj, "image")
        self.events.append(FrameCaptured(t, str(self.file.parent / str(image))))

    def _ev_code(self, line: int, obj: dict[str, Any], t: float) -> None:
        text = self._string(line, obj, "text")
        symbology = obj.get("symbology")
        if symbology is not None and not isinstance(symbology, str):
            raise self.fail(line, f"'symbology' must be a string, got {symbology!r}")
        self.events.append(CodeRead(t, str(text), symbology, "scanner"))

    def _ev_input(self, line: int, obj: dict[str, Any], t: float) -> None:
        action = self._string(line, obj, "action")
        if action == "plu":
            plu = obj.get("plu")
            if isinstance(plu, int) and not isinstance(plu, bool):
                plu = str(plu)
            if not isinstance(plu, str) or not plu:
                raise self.fail(line, f"input 'plu' needs a string field 'plu', got {plu!r}")
            self.events.append(PluKeyed(t, plu))
        elif action == "remove":
            code = self._string(line, obj, "code")
            self.events.append(RemovalAnnounced(t, str(code)))
        elif action == "checkout":
            self.events.append(CheckoutRequested(t))
        else:
            self.skipped += 1

    def _ev_end(self, line: int, obj: dict[str, Any], t: float) -> None:
        self.end_t = t
        self.events.append(SessionEnded(t))
