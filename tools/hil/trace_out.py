"""Writing a compiled scenario as cart-trace v1: scale blocks interleaved with events (none inside a
cable pull), and the camera images that `frame` events name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tools.hil.scenario import ScenarioError


def merge_blocks(
    values: list[Any], sps: float, events: list[dict[str, Any]], gaps: list[tuple[float, float]], block_s: float
) -> list[dict[str, Any]]:
    """Scale blocks (none inside a cable pull) interleaved with events, `t` never decreasing."""
    t = np.arange(len(values)) / sps
    keep = np.ones(len(values), dtype=bool)
    for g0, g1 in gaps:
        keep &= ~((t >= g0) & (t < g1))
    block = max(1, round(block_s * sps))
    sps_out: float | int = int(sps) if float(sps).is_integer() else sps
    out: list[dict[str, Any]] = []
    j = 0
    i = 0
    n = len(values)
    while i < n:
        if not keep[i]:
            i += 1
            continue
        stop = i
        while stop < n and stop - i < block and keep[stop]:
            stop += 1
        t_block = round(i / sps, 6)
        while j < len(events) and events[j]["t"] < t_block:
            out.append(_ordered(events[j]))
            j += 1
        out.append({"type": "scale", "t": t_block, "sps": sps_out, "values": values[i:stop]})
        i = stop
    out.extend(_ordered(e) for e in events[j:])
    return out


def _ordered(e: dict[str, Any]) -> dict[str, Any]:
    return {"type": e["type"], "t": e["t"], **{k: v for k, v in e.items() if k not in ("type", "t")}}


def write_frames(folder: Path, frames: list[tuple[float, str]], scenario_path: Path) -> None:
    """The images the frame events name: the basket, each code held up (a few hand positions), and
    an unreadable one for a camera fault."""
    from firmware.camera.synthetic import blank_frame, frame_with_code

    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "blank.png"), blank_frame())
    (folder / "broken.png").write_bytes(b"-- the camera sent garbage, not an image --")
    wobble = [(0, 0), (7, -4), (-5, 6), (3, 3)]
    for name in {name for _, name in frames if name.startswith("code-")}:
        text, k = name[len("code-") : -len(".png")].rsplit("-", 1)
        try:
            image = frame_with_code(text, offset=wobble[int(k)])
        except ValueError as exc:
            raise ScenarioError(scenario_path, f"cannot show {text} to the camera: {exc}") from None
        cv2.imwrite(str(folder / name), image)
