"""How well the basket's rise before weight leaves tells an item lifted out from a hand letting go.

Generated sessions are replayed through the real pipeline; every settled change out of the basket
after a short motion (below `GRIP_MOTION_S`, not a push) is labelled from the ground truth: a unit
left the basket while it moved (a removal), or none did (a hand letting go, goods shifting). Prints
how often each shows a rise of `GRIP_G` or more, and the likelihood ratios fusion's odds stand for
(`firmware/core/fusion_corrections.py`):

    .venv/bin/python -m tools.grip_evidence --sessions 600 --seed 9001
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from firmware.core.events import Event, WeightSettled
from firmware.core.fusion_corrections import GRIP_G, GRIP_MOTION_S, GRIPPED_ODDS, UNGRIPPED_ODDS
from firmware.pipeline import CartPipeline
from firmware.verifiers import make_verifier
from tools.bench_core import session_trace, store_catalog
from tools.sessiongen.dataset import session_id, session_kinds, store_for_seed
from tools.sessiongen.session import generate_session

LEFT_BEFORE_S = 1.5  # a unit whose truth says it left this long before the motion began counts (grip first)


@dataclass(frozen=True, slots=True)
class WeightOut:
    rise_g: float
    removal: bool


def weight_outs(seed: int, sessions: int) -> list[WeightOut]:
    store = store_for_seed(seed)
    catalog = store_catalog(store, seed)
    found: list[WeightOut] = []
    for index, kind in enumerate(session_kinds(sessions, 0.5, seed)):
        sid = session_id(seed, index)
        session = generate_session(store, [seed, index], sid, kind, 80.0, "g")
        trace = session_trace(session)
        left = [u["t_out"] for u in session.truth["units"] if u["t_out"] is not None]
        pipeline = CartPipeline(catalog, sid, verifier=make_verifier("rule"))

        def to_core(event: Event, left=left, passed=pipeline._to_core) -> None:
            if isinstance(event, WeightSettled) and event.delta_g < 0 and 0.0 < event.settle_s < GRIP_MOTION_S:
                began = event.t - event.settle_s
                removal = any(began - LEFT_BEFORE_S <= t <= event.t for t in left)
                found.append(WeightOut(event.rise_g or 0.0, removal))
            passed(event)

        pipeline._to_core = to_core  # type: ignore[method-assign]  # (observe what the core is told)
        for event in trace.events:
            pipeline.feed(event)
    return found


def summarise(found: list[WeightOut]) -> dict[str, float | int]:
    removals = np.array([w.rise_g for w in found if w.removal])
    others = np.array([w.rise_g for w in found if not w.removal])
    gripped_removal = float(np.mean(removals >= GRIP_G)) if len(removals) else float("nan")
    gripped_other = float(np.mean(others >= GRIP_G)) if len(others) else float("nan")
    return {
        "removals": len(removals),
        "others": len(others),
        "removals_gripped_pct": round(100 * gripped_removal, 1),
        "others_gripped_pct": round(100 * gripped_other, 2),
        "lr_gripped": round(gripped_removal / max(gripped_other, 1e-3), 1),
        "lr_ungripped": round((1 - gripped_removal) / max(1 - gripped_other, 1e-3), 3),
        "removal_rise_median_g": round(float(np.median(removals)), 1) if len(removals) else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=9001)
    args = parser.parse_args(argv)
    f = summarise(weight_outs(args.seed, args.sessions))
    head = f"grip evidence: {args.sessions} sessions (seed {args.seed})"
    print(f"{head}, weight out after motions under {GRIP_MOTION_S:g} s")
    print(f"  removals      {f['removals']:5d}   rise >= {GRIP_G:g} g: {f['removals_gripped_pct']:5.1f} %")
    print(f"  other (hands) {f['others']:5d}   rise >= {GRIP_G:g} g: {f['others_gripped_pct']:5.2f} %")
    print(f"  likelihood ratio, removal against hand: gripped {f['lr_gripped']}, not {f['lr_ungripped']}")
    print(f"  odds fusion uses: gripped {GRIPPED_ODDS:g}, not {UNGRIPPED_ODDS:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
