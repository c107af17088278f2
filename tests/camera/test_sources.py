"""Frame sources: image folder, trace frames, video file, and a camera that vanishes and returns."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from firmware.camera.camera import SupervisedCamera
from firmware.camera.emulated import EmulatedCamera
from firmware.camera.pipeline import CameraScanner, scans_from_frame_events
from firmware.camera.sources import Frame, ImageFolderSource, SourceError, TraceFrameSource, VideoFileSource
from firmware.camera.throughput import LatestFrameQueue, ReaderWorker
from firmware.core.events import CameraFaulted, CameraRestored, CodeRead, FrameCaptured, ScaleSampled


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def _images(n=3):
    return [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(n)]


def test_camera_fault_and_reopen():
    cam = EmulatedCamera(_images())
    clock = FakeClock()
    source = SupervisedCamera(cam.open, clock=clock, sleep=clock.sleep, retry_s=0.5, max_failed_reads=3)
    items = source.items()
    assert all(isinstance(next(items), Frame) for _ in range(4))
    cam.plugged = False
    fault = next(items)
    assert isinstance(fault, CameraFaulted) and "stopped" in fault.reason
    # while unplugged: retries every retry_s, no more fault events, no frames
    clock.t = 10.0
    cam.plugged = False
    opens_before = cam.opens
    cam.plugged = True
    restored = next(items)
    assert isinstance(restored, CameraRestored) and restored.t >= 10.0
    assert isinstance(next(items), Frame)
    assert cam.opens == opens_before + 1
    source.close()


def test_camera_absent_at_start_faults_once_then_restores():
    cam = EmulatedCamera(_images())
    cam.plugged = False
    clock = FakeClock()
    attempts = []

    def opener():
        attempts.append(clock.t)
        if len(attempts) == 4:
            cam.plugged = True
        return cam.open()

    source = SupervisedCamera(opener, clock=clock, sleep=clock.sleep, retry_s=1.0)
    items = source.items()
    assert isinstance(next(items), CameraFaulted)
    assert isinstance(next(items), CameraRestored)
    assert attempts == [0.0, 1.0, 2.0, 3.0]
    assert isinstance(next(items), Frame)


def test_opener_raising_is_a_fault_not_a_crash():
    clock = FakeClock()

    def opener():
        raise OSError("No such device /dev/video9")

    items = SupervisedCamera(opener, clock=clock, sleep=clock.sleep).items()
    fault = next(items)
    assert isinstance(fault, CameraFaulted) and "/dev/video9" in fault.reason


def test_image_folder_source(tmp_path):
    for i, image in enumerate(_images()):
        cv2.imwrite(str(tmp_path / f"f{i:03d}.png"), image)
    (tmp_path / "notes.txt").write_text("not an image")
    frames = list(ImageFolderSource(tmp_path, fps=10).items())
    assert [f.t for f in frames] == pytest.approx([0.0, 0.1, 0.2])
    with pytest.raises(SourceError):
        ImageFolderSource(tmp_path / "missing")


def test_trace_frames_and_missing_image(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), _images()[1])
    events = [ScaleSampled(0.0, 80.0, (1.0,)), FrameCaptured(0.5, "a.png"), FrameCaptured(0.6, "gone.png")]
    items = TraceFrameSource(events, tmp_path).items()
    assert next(items).t == 0.5
    with pytest.raises(SourceError, match=r"gone\.png"):
        next(items)


def test_video_file_source(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    if not writer.isOpened():
        pytest.skip("this OpenCV build cannot write MJPG video")
    for image in _images(5):
        writer.write(image)
    writer.release()
    frames = list(VideoFileSource(path).items())
    assert len(frames) == 5 and frames[1].t == pytest.approx(0.1)
    with pytest.raises(SourceError):
        VideoFileSource(tmp_path / "nope.avi")


def test_trace_frames_become_one_scan(samples, tmp_path):
    sample = next(s for s in samples if s.group == "zxing-cpp/ean13-1" and s.image.name == "4.webp")
    photo = cv2.imread(str(sample.image))
    frame = np.full((360, 640, 3), 180, np.uint8)
    h, w = photo.shape[:2]
    frame[50 : 50 + h, 40 : 40 + w] = photo
    blank = np.full((360, 640, 3), 180, np.uint8)
    cv2.imwrite(str(tmp_path / "item.png"), frame)
    cv2.imwrite(str(tmp_path / "blank.png"), blank)
    names = ["blank.png"] * 3 + ["item.png"] * 8 + ["blank.png"] * 25 + ["item.png"] * 8
    events = [FrameCaptured(i / 30, name) for i, name in enumerate(names)]
    scans = list(scans_from_frame_events(events, tmp_path, lambda text: text == "5449000039231"))
    assert [s.text for s in scans] == ["5449000039231", "5449000039231"]  # two visits, two units
    assert all(s.source == "camera" for s in scans)
    assert 3 / 30 <= scans[0].t < 11 / 30 and scans[1].t >= 36 / 30


def test_scanner_passes_faults_through():
    cam = EmulatedCamera(_images(2))
    clock = FakeClock()
    source = SupervisedCamera(cam.open, clock=clock, sleep=clock.sleep, max_failed_reads=1)
    scanner = CameraScanner(lambda text: True)
    events = scanner.events(source)
    cam.plugged = False
    assert isinstance(next(events), CameraFaulted)
    cam.plugged = True
    assert isinstance(next(events), CameraRestored)
    source.close()
    assert not any(isinstance(e, CodeRead) for e in events)


def test_queue_drops_oldest_when_full():
    queue = LatestFrameQueue(maxsize=2)
    for i in range(5):
        queue.put(Frame(float(i), np.zeros((2, 2), np.uint8), str(i)))
    assert len(queue) == 2 and queue.dropped == 3
    assert [queue.get(0).t, queue.get(0).t] == [3.0, 4.0]
    assert queue.get(0.01) is None
    queue.close()
    assert queue.get() is None  # closed and empty: no hang


def test_slow_worker_drops_frames_and_memory_stays_bounded():
    import threading

    gate = threading.Event()
    handled = []

    def slow(frame):
        gate.wait(2)
        handled.append(frame.t)

    queue = LatestFrameQueue(maxsize=3)
    worker = ReaderWorker(queue, slow)
    worker.start()
    for i in range(100):
        queue.put(Frame(float(i), np.zeros((2, 2), np.uint8), str(i)))
        assert len(queue) <= 3
    gate.set()
    queue.close()
    worker.join(5)
    assert queue.dropped >= 96 and handled[-1] == 99.0 and worker.error is None


def test_cartctl_decode_json(samples, tmp_path):
    sample = next(s for s in samples if s.group == "zxing-cpp/ean8-1" and s.image.name == "4.webp")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((60, 80), 255, np.uint8))
    result = subprocess.run(
        [sys.executable, "-m", "firmware.cli.cartctl", "decode", str(sample.image), str(blank),
         str(tmp_path / "missing.png"), "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 2  # one file missing
    assert [set(rec) >= {"image", "code", "symbology", "ms"} for rec in lines] == [True] * 3
    assert (lines[0]["code"], lines[0]["symbology"]) == ("67678983", "ean8")
    assert lines[1]["code"] is None and lines[1]["symbology"] is None
    assert "error" in lines[2] and lines[2]["code"] is None
    assert all(isinstance(rec["ms"], float) for rec in lines)


def test_replay_frame_reader_scans_and_faults(samples, tmp_path):
    from firmware.camera.replay import frame_reader_for

    class Catalog:
        def knows(self, text, symbology=None):
            return text == "67678983"

    sample = next(s for s in samples if s.group == "zxing-cpp/ean8-1" and s.image.name == "4.webp")
    frame = np.full((360, 640, 3), 200, np.uint8)
    photo = cv2.imread(str(sample.image))
    frame[20 : 20 + photo.shape[0], 30 : 30 + photo.shape[1]] = photo
    cv2.imwrite(str(tmp_path / "f.png"), frame)
    read = frame_reader_for(Catalog())
    out = []
    for i, name in enumerate(["f.png", "missing.png", "missing.png", "f.png", "f.png"]):
        out += read(FrameCaptured(i / 30, str(tmp_path / name)))
    kinds = [type(e).__name__ for e in out]
    assert kinds == ["CodeRead", "CameraFaulted", "CameraRestored"]
    assert out[0].text == "67678983" and out[0].source == "camera"
