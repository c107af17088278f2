"""The model's score on the rule's scale: an empirical (conformal) p-value of the network's logit.

The cart core reads every verifier's score as the statistical rule's: a two-sided tail probability,
about uniform on [0, 1] for a change that truly fits. It accepts a fit at 0.002
(`MatchLimits.accept_p`), multiplies scores by priors, and compares rival groups by their ratio
(`OCCAM`, `ambiguous_ratio`). A classifier's P(fits) lives on another scale (close to 1 for every
good fit, a different tail), so the network's logit `z` is mapped to

    p(z) = fraction of true fits, in held-out calibration sessions, that scored z or lower

(`tools/train_verifier.py` builds the table from questions labelled from ground truth, each
variant, float and int8, from its own logits). For a true fit p is then uniform on [0, 1], as the
rule's score is meant to be, so the core's thresholds keep their meaning: at 0.002 it rejects
0.2 % of true fits. Between knots, log p is interpolated linearly in z. Below the lowest calibration
score p keeps falling with the network's own odds, p = p_low * exp(z - z_low), so a misfit far in
the tail still ranks below a nearer one and ratios between rivals there are the network's odds
ratios. Above the highest knot p is 1.

Pure Python at runtime (a bisection over a few hundred knots); numpy only to build the table.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALIBRATION_FILE = "verifier_calibration.json"
FORMAT = "smartcart-verifier-calibration-v1"
TAIL_COUNT = 20  # the empirical distribution is trusted from its 20th-lowest true fit up (p ~ 0.0014)
TAIL_KNOTS = 40  # the lowest calibration scores are all kept (the tail decides accept / reject)
TAIL_SLOPE = 1.0  # below the lowest: d log p / d z, the network's own odds


@dataclass(frozen=True, slots=True)
class Calibration:
    """Knots (logit, p) strictly increasing in both; `p_value` maps a logit onto [0, 1]."""

    logits: tuple[float, ...]
    log_p: tuple[float, ...]
    tail_slope: float = TAIL_SLOPE

    def __post_init__(self) -> None:
        if len(self.logits) < 2 or len(self.logits) != len(self.log_p):
            raise ValueError("a calibration needs at least two knots, as many logits as p-values")
        for a, b in zip(self.logits, self.logits[1:], strict=False):
            if not b > a:
                raise ValueError("calibration logits must increase strictly")
        for a, b in zip(self.log_p, self.log_p[1:], strict=False):
            if not b > a:
                raise ValueError("calibration p-values must increase strictly")
        if self.log_p[-1] > 1e-12 or self.tail_slope <= 0:
            raise ValueError("calibration p-values must be <= 1 and the tail slope positive")

    def p_value(self, z: float) -> float:
        xs, ys = self.logits, self.log_p
        if z <= xs[0]:
            return math.exp(ys[0] + self.tail_slope * (z - xs[0])) if z > -1e6 else 0.0
        if z >= xs[-1]:
            return math.exp(ys[-1])
        i = bisect.bisect_right(xs, z)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return math.exp(y0 + (y1 - y0) * (z - x0) / (x1 - x0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "logit": [round(x, 6) for x in self.logits],
            "p": [float(f"{math.exp(y):.6g}") for y in self.log_p],
            "tail_slope": self.tail_slope,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            tuple(float(x) for x in data["logit"]),
            tuple(math.log(float(p)) for p in data["p"]),
            float(data.get("tail_slope", TAIL_SLOPE)),
        )


def build(
    fit_logits: Any, max_knots: int = 160, tail_count: int = TAIL_COUNT, tail_slope: float = TAIL_SLOPE
) -> Calibration:
    """The table from the logits of held-out true fits (numpy needed here only).

    A knot sits at a calibration score v with p = (1 + #{scores <= v}) / (n + 1), the conformal
    p-value; ties (int8 logits take few values) collapse to one knot. The lowest knot is the
    `tail_count`-th lowest score: below it a handful of odd true fits (a hand on the item, a
    label at the edge of its tolerance) would set the tail for every misfit, so the tail follows
    the network's odds from there. Above it, the `TAIL_KNOTS` lowest distinct scores are all
    kept, then knots evenly spaced in log p up to 0.1 and in p above.
    """
    import numpy as np

    z = np.sort(np.round(np.asarray(fit_logits, dtype=np.float64), 6))  # as stored
    n = len(z)
    if n < 10 * tail_count:
        raise ValueError(f"calibrating on {n} true fits is too few (need >= {10 * tail_count})")
    values = np.unique(z[tail_count - 1 :])
    p = (1.0 + np.searchsorted(z, values, side="right")) / (n + 1.0)
    p[-1] = 1.0  # the best-scoring true fits: p = 1, as the rule's exact fit
    keep = set(range(min(TAIL_KNOTS, len(values))))
    keep.add(len(values) - 1)
    budget = max(2, max_knots - len(keep))
    first = p[min(TAIL_KNOTS, len(values) - 1)]
    targets = np.concatenate(
        [np.geomspace(min(first, 0.1), 0.1, budget // 2), np.linspace(0.1, 1.0, budget - budget // 2)]
    )
    keep.update(int(i) for i in np.searchsorted(p, targets, side="left").clip(0, len(values) - 1))
    index = sorted(keep)
    return Calibration(tuple(float(v) for v in values[index]), tuple(float(np.log(q)) for q in p[index]), tail_slope)


def load(model_dir: Path | str, variant: str) -> Calibration | None:
    """The variant's calibration from `verifier_calibration.json` in `model_dir`; None without the file."""
    path = Path(model_dir) / CALIBRATION_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    if data.get("format") != FORMAT or variant not in data.get("variants", {}):
        raise ValueError(f"{path}: not a {FORMAT} file with a {variant!r} table")
    return Calibration.from_dict(data["variants"][variant])


def write(path: Path, tables: dict[str, Calibration], meta: dict[str, Any]) -> None:
    data = {"format": FORMAT, **meta, "variants": {name: table.to_dict() for name, table in tables.items()}}
    path.write_text(json.dumps(data, indent=1) + "\n")


__all__ = ["CALIBRATION_FILE", "Calibration", "build", "load", "write"]
