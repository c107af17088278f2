"""Does this session need a person before the charge is final? Every answer carries its reasons.

A session goes to review when an alert is still open at checkout, when the scale is not working
at checkout, or when the basket's settled weight disagrees with what the bill says went in (the
evidence cannot settle the bill).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware.core.basket import UnitState
from firmware.core.fusion import Fusion

BASKET_DISAGREES = "basket_weight_disagrees"


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    weight_tolerance_g: float = 40.0
    weight_tolerance_rel: float = 0.03


@dataclass(frozen=True, slots=True)
class Review:
    required: bool
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def to_report(self) -> dict[str, object]:
        return {"required": self.required, "reasons": list(self.reasons)}


def decide(fusion: Fusion, config: ReviewConfig | None = None) -> Review:
    config = config or ReviewConfig()
    reasons: list[str] = []
    details: list[str] = []
    for alert in fusion.basket.open_alerts():
        if str(alert.kind) not in reasons:
            reasons.append(str(alert.kind))
        details.append(f"{alert.kind} at t={alert.t:.1f}: {alert.detail}")
    gap = basket_weight_gap(fusion)
    if gap is not None and abs(gap) > max(config.weight_tolerance_g, config.weight_tolerance_rel * fusion.level_g):
        reasons.append(BASKET_DISAGREES)
        details.append(f"the basket weighs {fusion.level_g:.0f} g, {gap:+.0f} g against the goods on the bill")
    return Review(bool(reasons), reasons, details)


def basket_weight_gap(fusion: Fusion) -> float | None:
    """Settled basket weight minus what the placed goods and held changes account for."""
    if fusion.scale_alert is not None:
        return None
    accounted = sum(u.weight_g or 0.0 for u in fusion.basket.in_state(UnitState.PLACED))
    accounted += sum(h.delta_g for h in fusion.basket.held.values())
    return fusion.level_g - accounted
