"""The replay report of cart-trace v1: what the shopper is charged, the alerts shown, the review."""

from __future__ import annotations

from typing import Any

from firmware.core.fusion import Fusion
from firmware.core.review import Review


def build_report(session_id: str, fusion: Fusion, review: Review, stats: dict[str, Any]) -> dict[str, Any]:
    lines = fusion.basket.bill_lines()
    return {
        "version": 1,
        "session_id": session_id,
        "items": [line.to_report() for line in lines],
        "total_cents": sum(line.amount_cents for line in lines),
        "alerts": [alert.to_report() for alert in fusion.basket.alerts],
        "review": review.to_report(),
        "stats": stats,
    }
