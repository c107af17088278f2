from __future__ import annotations

from pathlib import Path

from firmware.cli.cartctl import main
from firmware.cli.cmd_watch import render


def test_demo_plays_a_session_and_prints_the_bill(example_trace: Path, capsys) -> None:
    assert main(["demo", "--trace", str(example_trace), "--speed", "0"]) == 0
    out = capsys.readouterr().out
    assert "Bananas" in out and "612 g" in out and "€1.22" in out
    assert "total" in out and "€2.21" in out
    assert "review: not needed" in out


def test_watch_renders_a_snapshot() -> None:
    snapshot = {
        "cart_id": "c1",
        "state": "shopping",
        "session_id": "s1",
        "currency": "GBP",
        "lines": [{"name": "Tinned tomatoes", "qty": 2, "weight_g": None, "amount_cents": 258}],
        "pending": [{"name": "Gum"}],
        "alerts": [{"kind": "unscanned_item", "detail": "300 g went in", "hint": "Scan it"}],
        "total_cents": 258,
        "devices": {"scale": {"ok": True, "level_g": 904.0}, "camera": {"ok": False}},
    }
    text = render(snapshot)
    assert "Tinned tomatoes" in text and "x2" in text and "£2.58" in text
    assert "(scanned, not in yet) Gum" in text
    assert "! unscanned_item" in text and "camera FAULT" in text
    assert "storage" not in text
    snapshot["devices"]["storage"] = {"ok": False, "detail": "call staff"}
    assert "storage FAULT: call staff" in render(snapshot)
