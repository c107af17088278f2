"""Replays recorded sessions (cart-trace v1) through the cart pipeline on a simulated clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware.core.catalog import Catalog, CatalogError, load_catalog
from firmware.core.trace import Trace, TraceError, read_trace
from firmware.core.verifier import Verifier
from firmware.core.weightbook import WeightBook
from firmware.pipeline import CartPipeline, FrameReader

FrameReaderFactory = Callable[[Catalog], FrameReader]


@dataclass(slots=True)
class ReplayResult:
    trace: Path
    name: str
    report: dict[str, Any] | None = None
    error: str | None = None
    session_s: float = 0.0
    wall_s: float = 0.0


class CatalogCache:
    """Traces of one batch usually share a catalog: load each file once per process."""

    def __init__(self) -> None:
        self._loaded: dict[Path, Catalog] = {}

    def get(self, path: Path) -> Catalog:
        key = path.resolve()
        if key not in self._loaded:
            self._loaded[key] = load_catalog(path)
        return self._loaded[key]


def replay_trace(
    trace: Trace,
    catalog: Catalog,
    verifier: Verifier | None = None,
    frame_reader: FrameReader | None = None,
    book: WeightBook | None = None,
) -> dict[str, Any]:
    """One session through a fresh pipeline; with `book`, it learns from and teaches earlier/later ones."""
    return replay_session(trace, catalog, verifier, frame_reader, book)[1]


def replay_session(
    trace: Trace,
    catalog: Catalog,
    verifier: Verifier | None = None,
    frame_reader: FrameReader | None = None,
    book: WeightBook | None = None,
) -> tuple[CartPipeline, dict[str, Any]]:
    """`replay_trace`, keeping the closed pipeline (its journal holds what the store would be sent)."""
    session_id = trace.header.session_id or trace.name
    started = time.perf_counter()
    pipeline = CartPipeline(
        catalog, session_id, cart_id=trace.header.cart_id, verifier=verifier, frame_reader=frame_reader, book=book
    )
    pipeline.feed_all(trace.events)
    wall = time.perf_counter() - started
    stats: dict[str, Any] = {
        "replay_wall_s": round(wall, 4),
        "session_s": round(trace.end_t, 3),
        "speed_x": round(trace.end_t / wall, 1) if wall > 0 else None,
        "verifier": getattr(pipeline.fusion.verifier, "name", "custom"),
    }
    if catalog.errors:
        stats["catalog_row_errors"] = len(catalog.errors)
    if trace.warnings:
        stats["trace_warnings"] = list(trace.warnings)
    if trace.skipped_lines:
        stats["skipped_lines"] = trace.skipped_lines
    return pipeline, pipeline.close(stats)


def replay_path(
    path: str | Path,
    catalogs: CatalogCache,
    verifier: Verifier | None = None,
    frame_reader_factory: FrameReaderFactory | None = None,
) -> ReplayResult:
    path = Path(path)
    started = time.perf_counter()
    result = ReplayResult(path, path.name if path.is_dir() else path.parent.name)
    try:
        trace = read_trace(path)
        result.name = trace.name
        catalog = catalogs.get(trace.header.catalog_path)
        reader = frame_reader_factory(catalog) if frame_reader_factory else None
        result.report = replay_trace(trace, catalog, verifier, reader)
        result.session_s = trace.end_t
    except (TraceError, CatalogError) as exc:
        result.error = str(exc)
    result.wall_s = time.perf_counter() - started
    return result
