"""`cartctl hil record` against the scale emulator and a folder-of-images camera: the recording is a
valid cart trace (raw counts with the cart's calibration), the camera path's scans are `code`
events, and the recording replays through the cart."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from firmware.camera.synthetic import blank_frame, frame_with_code
from firmware.cli.cartctl import main
from firmware.core.events import CodeRead, FrameCaptured, ScaleSampled
from firmware.core.trace import read_trace
from firmware.replay import CatalogCache, replay_path
from firmware.scale import calibration as calibration_file
from tests.hil.conftest import SCENARIOS, StreamingScale
from tools.hil.compiler import compile_scenario
from tools.hil.scenario import load_scenario

GUM, TOMATOES = "471803100707", "471100930007"


def camera_folder(folder: Path) -> Path:
    """4.2 s of camera at 10 fps: the basket, the gum held up, the basket, the can held up."""
    folder.mkdir()
    frames = [blank_frame()] * 5 + [frame_with_code(GUM, offset=(k % 3 * 4, 0)) for k in range(12)]
    frames += [blank_frame()] * 8 + [frame_with_code(TOMATOES, offset=(0, k % 3 * 4)) for k in range(12)]
    frames += [blank_frame()] * 5
    for i, image in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:04d}.png"), image)
    return folder


@pytest.fixture
def scale(tmp_path: Path):  # type: ignore[no-untyped-def]
    compiled = compile_scenario(load_scenario(SCENARIOS / "light-gum-dropped.yaml"), tmp_path / "source")
    with StreamingScale(compiled.trace_dir, tmp_path / "tty") as streaming:
        calibration = tmp_path / "calibration.toml"
        calibration_file.save(streaming.calibration, calibration)
        yield streaming, calibration


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_record_scale_and_camera(tmp_path: Path, scale, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    streaming, calibration = scale
    out = tmp_path / "recorded"
    code = main(
        [
            "hil",
            "record",
            "--port",
            str(streaming.link),
            "--camera",
            str(camera_folder(tmp_path / "cam")),
            "--seconds",
            "6",
            "--out",
            str(out),
            "--calibration",
            str(calibration),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "2 scans" in printed
    trace = read_trace(out)
    assert trace.header.scale_unit == "counts"
    assert trace.header.counts_per_gram == pytest.approx(streaming.calibration.counts_per_gram)
    samples = [v for e in trace.events if isinstance(e, ScaleSampled) for v in e.values_g]
    assert 300 < len(samples) <= 6 * 80 + 10
    # the reader applies the header's calibration to the raw counts: an empty basket, then a 452 g can
    assert min(samples) > -50 and max(samples) < 700
    scans = [e.text for e in trace.events if isinstance(e, CodeRead)]
    assert [s[-12:] for s in scans] == [GUM, TOMATOES]
    index = [json.loads(line) for line in (out / "frames" / "index.jsonl").read_text().splitlines()]
    assert index and all((out / entry["image"]).exists() for entry in index)
    result = replay_path(out, CatalogCache())
    assert result.report is not None and result.error is None


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_record_frames_into_the_trace(tmp_path: Path, scale) -> None:  # type: ignore[no-untyped-def]
    from firmware.camera.replay import frame_reader_for

    streaming, calibration = scale
    out = tmp_path / "recorded"
    assert (
        main(
            [
                "hil",
                "record",
                "--port",
                str(streaming.link),
                "--camera",
                str(camera_folder(tmp_path / "cam")),
                "--seconds",
                "5",
                "--out",
                str(out),
                "--calibration",
                str(calibration),
                "--frames-in-trace",
            ]
        )
        == 0
    )
    trace = read_trace(out)
    assert not any(isinstance(e, CodeRead) for e in trace.events)
    assert sum(isinstance(e, FrameCaptured) for e in trace.events) == 42
    result = replay_path(out, CatalogCache(), frame_reader_factory=frame_reader_for)
    assert result.report is not None and result.report["stats"]["scans_from_frames"] == 2


def test_record_refuses_without_calibration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "hil",
            "record",
            "--port",
            str(tmp_path / "tty"),
            "--seconds",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--calibration",
            str(tmp_path / "missing.toml"),
        ]
    )
    assert code == 2
    assert "missing.toml" in capsys.readouterr().err
