"""`cartctl hil record`: a real cart's scale (and camera) into a cart-trace v1 folder, so a real
shopping trip becomes a regression test.

The scale is read through `SerialScaleSource` with a unit calibration, so the trace keeps the raw
HX711 counts and its header carries the cart's calibration (`unit: counts`): a later, better
calibration can be applied to the same recording. A scale fault (cable pulled, chip silent) is a
hole in the samples, exactly as the spec reads it.

With a camera, frames go through the cart's own camera path (frame reader and debouncer) and its
decisions are written as `code` events, one per scan; frames are also saved as images in
`frames/` with `frames/index.jsonl` (`{"t", "image"}` per line) beside the trace, not in it, so a
replay does not count each scan twice. `frames_in_trace=True` writes `frame` events instead of
`code` events (the replay then decodes the frames itself).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2

from firmware.camera.pipeline import CameraScanner
from firmware.camera.sources import Frame, FrameSource, ImageFolderSource, SourceItem, VideoFileSource
from firmware.core.catalog import load_catalog
from firmware.core.events import CameraFaulted, ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale.calibration import Calibration
from firmware.scale.source import SerialScaleSource

RAW = Calibration(0.0, 1.0)  # grams = counts: the source hands the raw counts through


@dataclass(slots=True)
class Recording:
    out: Path
    seconds: float
    samples: int = 0
    scale_faults: int = 0
    scans: list[str] = field(default_factory=list)
    frames_seen: int = 0
    frames_saved: int = 0
    camera_faults: int = 0


class PacedSource:
    """A file source (image folder, video) played on the wall clock, as a live camera delivers."""

    def __init__(self, inner: FrameSource, clock: Callable[[], float], stop: threading.Event) -> None:
        self.inner, self.clock, self.stop = inner, clock, stop

    def items(self) -> Iterator[SourceItem]:
        start = self.clock()
        for item in self.inner.items():
            if self.stop.is_set():
                return
            if isinstance(item, Frame):
                delay = start + item.t - self.clock()
                if delay > 0 and self.stop.wait(delay):
                    return
                yield Frame(self.clock(), item.image, item.ref)
            else:
                yield item

    def close(self) -> None:
        self.inner.close()


def open_camera(spec: str, clock: Callable[[], float], stop: threading.Event, fps: float = 10.0) -> FrameSource:
    """`/dev/videoN` or a number: the live V4L2 camera; a folder of images or a video file: played
    on the wall clock at `fps` (folders) or the file's own rate (videos)."""
    path = Path(spec)
    if path.is_dir():
        return PacedSource(ImageFolderSource(path, fps), clock, stop)
    if path.is_file() and not spec.startswith("/dev/"):
        return PacedSource(VideoFileSource(path), clock, stop)
    from firmware.camera.camera import CameraSettings, v4l2_camera

    device: int | str = int(spec) if spec.isdigit() else spec
    return v4l2_camera(CameraSettings(device=device), clock=clock)


class _Camera(threading.Thread):
    def __init__(
        self,
        source: FrameSource,
        scanner: CameraScanner,
        rec: Recording,
        t0: float,
        frames_dir: Path,
        every: int,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="hil-record-camera", daemon=True)
        self.source, self.scanner, self.rec, self.t0 = source, scanner, rec, t0
        self.frames_dir, self.every, self.stop = frames_dir, max(1, every), stop
        self.events: list[dict[str, Any]] = []
        self.index: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            for item in self.source.items():
                if self.stop.is_set():
                    break
                if not isinstance(item, Frame):
                    self.rec.camera_faults += isinstance(item, CameraFaulted)
                    continue
                t = round(item.t - self.t0, 3)
                if t < 0:
                    continue
                self.rec.frames_seen += 1
                frame = Frame(t, item.image, item.ref)
                scans = self.scanner.handle_frame(frame)
                if self.rec.frames_seen % self.every == 0 or scans:
                    name = f"{self.rec.frames_seen:06d}.jpg"
                    cv2.imwrite(str(self.frames_dir / name), item.image)
                    self.rec.frames_saved += 1
                    with self.lock:
                        self.index.append({"t": t, "image": f"frames/{name}"})
                with self.lock:
                    for scan in scans:
                        self.rec.scans.append(scan.text)
                        event = {"type": "code", "t": round(scan.t, 3), "text": scan.text}
                        if scan.symbology:
                            event["symbology"] = scan.symbology
                        self.events.append(event)
        finally:
            self.source.close()


def record(
    port: str,
    out: Path,
    calibration: Calibration,
    catalog_csv: Path,
    *,
    seconds: float | None = None,
    camera: str | None = None,
    camera_fps: float = 10.0,
    frame_every: int = 5,
    frames_in_trace: bool = False,
    clock: Callable[[], float] = time.monotonic,
    stop: threading.Event | None = None,
    say: Callable[[str], None] = print,
) -> Recording:
    """Record until `seconds` pass, `stop` is set or Ctrl-C; writes OUT/trace.jsonl and OUT/catalog.csv."""
    stop = stop or threading.Event()
    catalog = load_catalog(catalog_csv)
    out.mkdir(parents=True, exist_ok=True)
    (out / "catalog.csv").write_bytes(catalog_csv.read_bytes())
    source = SerialScaleSource(port, RAW, clock)
    blocks: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    rec = Recording(out, 0.0)
    t0 = clock()
    cam: _Camera | None = None
    if camera is not None:
        frames_dir = out / "frames"
        frames_dir.mkdir(exist_ok=True)
        scanner = CameraScanner(lambda text: catalog.knows(text))
        every = 1 if frames_in_trace else frame_every
        cam = _Camera(open_camera(camera, clock, stop, camera_fps), scanner, rec, t0, frames_dir, every, stop)
        cam.start()
    say(
        f"recording {port}"
        + (f" and camera {camera}" if camera else "")
        + (f" for {seconds:g} s" if seconds else " until Ctrl-C")
        + f" into {out}"
    )
    try:
        while not stop.is_set() and (seconds is None or clock() - t0 < seconds):
            for event in source.poll(0.1):
                t = event.t - t0
                if isinstance(event, ScaleSampled) and t >= 0:
                    blocks.append(
                        {
                            "type": "scale",
                            "t": round(t, 4),
                            "sps": _sps(event.sps),
                            "values": [round(v) for v in event.values_g],
                        }
                    )
                    rec.samples += len(event.values_g)
                elif isinstance(event, ScaleFaulted):
                    rec.scale_faults += 1
                    say(f"  {max(t, 0):7.1f} s: scale fault: {event.reason}")
                    marks.append({"t": round(max(t, 0), 3), "fault": event.reason})
                elif isinstance(event, ScaleRestored):
                    say(f"  {max(t, 0):7.1f} s: scale back")
    except KeyboardInterrupt:
        say("stopped")
    finally:
        stop.set()
        source.close()
        if cam is not None:
            cam.join(timeout=5)
    rec.seconds = clock() - t0
    events: list[dict[str, Any]] = []
    if cam is not None:
        events = [{"type": "frame", **f} for f in cam.index] if frames_in_trace else cam.events
        if not frames_in_trace:
            with (out / "frames" / "index.jsonl").open("w", encoding="utf-8") as f:
                f.writelines(json.dumps(entry) + "\n" for entry in cam.index)
    _write_trace(out, calibration, blocks, events, rec.seconds)
    return rec


def _sps(sps: float) -> float | int:
    return int(sps) if float(sps).is_integer() else sps


def _write_trace(
    out: Path, calibration: Calibration, blocks: list[dict[str, Any]], events: list[dict[str, Any]], seconds: float
) -> None:
    header = {
        "type": "header",
        "version": 1,
        "catalog": "catalog.csv",
        "scale": {"unit": "counts", "offset": calibration.offset, "counts_per_gram": calibration.counts_per_gram},
        "cart_id": "recorded",
        "session_id": out.name,
    }
    lines = sorted(blocks + events, key=lambda e: e["t"])  # stable: a block before an event at its own t
    last_t = 0.0
    for line in lines:  # batch stamps are slewed: never let one step back past an event
        line["t"] = last_t = max(line["t"], last_t)
    end_t = max(seconds, last_t)
    with (out / "trace.jsonl").open("w", encoding="utf-8") as f:
        f.write(json.dumps(header) + "\n")
        f.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        f.write(json.dumps({"type": "end", "t": round(end_t, 3)}) + "\n")
