"""End to end: a cart-trace v1 session whose scans come only from camera frames (real photo)."""

from __future__ import annotations

import json

import cv2
import numpy as np

from firmware.camera.replay import frame_reader_for
from firmware.replay import CatalogCache, replay_path


def _write_trace(tmp_path, photo):
    frame = np.full((480, 640, 3), 170, np.uint8)
    h, w = photo.shape[:2]
    frame[60 : 60 + h, 80 : 80 + w] = photo
    empty = np.full((480, 640, 3), 170, np.uint8)
    cv2.imwrite(str(tmp_path / "item.png"), frame)
    cv2.imwrite(str(tmp_path / "empty.png"), empty)
    (tmp_path / "catalog.csv").write_text(
        "code,name,price_cents,sold_by,weight_g\n5449000039231,Cola 500 ml,189,each,540\n", encoding="utf-8"
    )
    lines = [{"type": "header", "version": 1, "catalog": "catalog.csv", "scale": {"unit": "g"}}]
    for second in range(12):
        level = 0.0 if second < 4 else 540.0
        lines.append({"type": "scale", "t": float(second), "sps": 10, "values": [level] * 10})
        for k in range(10):  # 10 frames a second; the item is in view from 2.0 s to 3.5 s
            t = second + k / 10
            lines.append({"type": "frame", "t": t, "image": "item.png" if 2.0 <= t < 3.5 else "empty.png"})
    lines.append({"type": "input", "t": 12.0, "action": "checkout"})
    lines.append({"type": "end", "t": 12.5})
    (tmp_path / "trace.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")


def test_camera_frames_scan_the_item_once(samples, tmp_path):
    sample = next(s for s in samples if s.group == "zxing-cpp/ean13-1" and s.image.name == "4.webp")
    _write_trace(tmp_path, cv2.imread(str(sample.image)))
    result = replay_path(tmp_path, CatalogCache(), frame_reader_factory=frame_reader_for)
    assert result.error is None, result.error
    report = result.report
    text = json.dumps(report["items"])
    assert "5449000039231" in text
    assert len(report["items"]) == 1
    assert report["items"][0].get("quantity", 1) == 1
    assert report["total_cents"] == 189
