"""Scenario -> cart-trace v1: the story's steps become load-cell samples, scans and touches.

The physics is the session generator's (`tools.sessiongen.scale`): each step turns into its
physical actions (`Place`, `Lift`, `Push`, `Shift`, a hand pressing) on one drawn cart, rendered
with ringing, creep, drift, noise and the occasional corrupted read, then measured in raw counts.
Scans become `code` events (a hand scanner) or, with `camera: frames`, camera frames showing the
barcode that the cart's own camera path must read. A cable pull is a hole in the samples; a camera
fault is a run of unreadable frames. The compiler also keeps what the rig needs afterwards: when
each step happened, the prompt a human gets for it, and what really went into the basket.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from firmware.core.gtin import is_plu
from tools.hil.catalog import Item, ScenarioCatalog, ScenarioCatalogError, code_key, load_scenario_catalog
from tools.hil.scenario import Scenario, ScenarioError, Step
from tools.hil.trace_out import merge_blocks, write_frames
from tools.sessiongen.scale import HandRest, Lift, Place, Push, Shift, draw_scale_params, measure_counts, render_grams

DEFAULT_THEN_S = {
    "wait": 0.0, "push": 1.0, "bump": 2.0, "scan": 1.5, "plu": 2.0, "place": 2.5, "remove": 2.5,
    "announce_removal": 1.5, "hand": 2.0, "shift": 1.5, "cable_pull": 0.5, "camera_fault": 0.5, "checkout": 3.0,
}  # fmt: skip
CAMERA_FPS = 10.0
SHOW_CODE_S = 1.2
BLANK_AFTER_S = 1.0
SYMBOLOGY_BY_LENGTH = {13: "ean13", 12: "upca", 8: "ean8"}
PHYSICAL = ("push", "bump", "place", "remove", "hand", "shift", "cable_pull", "camera_fault")


@dataclass(slots=True)
class StepTiming:
    step: Step
    t0: float
    t1: float  # when the step's own action is over (before its pause)
    prompt: str
    events: list[dict[str, Any]] = field(default_factory=list)  # the trace events this step made
    scans: list[tuple[float, str, str | None]] = field(default_factory=list)  # (t, text, symbology), any camera

    @property
    def physical(self) -> bool:
        return self.step.kind in PHYSICAL


@dataclass(slots=True)
class Compiled:
    scenario: Scenario
    trace_dir: Path
    duration_s: float
    sps: float
    steps: list[StepTiming]
    catalog: ScenarioCatalog
    by_weight_in_basket_g: dict[str, float]  # catalog key -> grams really in the basket at the end
    gaps: list[tuple[float, float]]

    @property
    def trace_file(self) -> Path:
        return self.trace_dir / "trace.jsonl"


@dataclass(slots=True)
class _Unit:
    item: Item | None
    code: str
    weight_g: float


class _Builder:
    def __init__(self, scenario: Scenario, catalog: ScenarioCatalog) -> None:
        self.sc, self.catalog = scenario, catalog
        self.rng = np.random.default_rng(scenario.seed)
        self.t = scenario.start_s
        self.actions: list[Any] = []
        self.lumps: dict[int, list[_Unit]] = {}  # physical lumps in the basket by item id
        self.next_item = 0
        self.gaps: list[tuple[float, float]] = []
        self.frames: list[tuple[float, str]] = []  # (t, image name) for camera: frames
        self.timings: list[StepTiming] = []
        self.step: Step | None = None

    def fail(self, message: str) -> ScenarioError:
        assert self.step is not None
        return ScenarioError(self.sc.path, message, self.step.index, self.step.kind)

    def item(self, ref: str, *, allow_unknown: bool = False) -> Item | None:
        found = self.catalog.find(ref)
        if found is None and not allow_unknown:
            raise self.fail(f"no product {ref!r} in {self.catalog.path}")
        return found

    def event(self, **fields: Any) -> None:
        assert self.timings
        self.timings[-1].events.append({"t": round(self.t, 3), **fields})

    # -- steps ----------------------------------------------------------------------------------------

    def run(self) -> None:
        for step in self.sc.steps:
            self.step = step
            timing = StepTiming(step, self.t, self.t, "")
            self.timings.append(timing)
            timing.prompt = getattr(self, f"_{step.kind}")(step.args)
            timing.t1 = self.t
            self.t += step.then_s if step.then_s is not None else DEFAULT_THEN_S[step.kind]

    def _wait(self, a: dict[str, Any]) -> str:
        self.t += a["seconds"]
        return f"wait {a['seconds']:g} s"

    def _push(self, a: dict[str, Any]) -> str:
        t0, t1 = self.t, self.t + a["seconds"]
        self.actions.append(Push(t0, t1, a.get("intensity", 1.0), a.get("threshold", False)))
        for item_id in list(self.lumps):  # goods slide or tip over on the way (WORLD.md: 0.2 %/s)
            if self.rng.random() < -math.expm1(-0.002 * (t1 - t0)):
                self.actions.append(Shift(float(self.rng.uniform(t0, t1)), item_id, float(self.rng.uniform(0.05, 0.4))))
        self.t = t1
        return f"push the cart for {a['seconds']:g} s" + (" over a threshold" if a.get("threshold") else "")

    def _bump(self, a: dict[str, Any]) -> str:
        seconds = a.get("seconds", 1.5)
        self.actions.append(Push(self.t, self.t + seconds, 0.2, True))
        self.t += seconds
        return "knock the standing cart (a firm bump)"

    def _scan(self, a: dict[str, Any]) -> str:
        if "code" in a:
            text, name = a["code"], f"the unlisted code {a['code']}"
        else:
            item = self.item(a["product"])
            assert item is not None
            if item.by_weight or is_plu(item.code):
                raise self.fail(f"{item.name} is produce: key it with 'plu', it has no barcode")
            text, name = a.get("text", item.code), item.name
        symbology = a.get("symbology", SYMBOLOGY_BY_LENGTH.get(len(text)))
        self.timings[-1].scans.append((round(self.t, 3), text, symbology))
        if self.sc.camera == "frames":
            self._show_code(text)
        else:
            fields: dict[str, Any] = {"type": "code", "text": text}
            if symbology:
                fields["symbology"] = symbology
            self.event(**fields)
        return f"scan {name} ({text})"

    def _plu(self, a: dict[str, Any]) -> str:
        item = self.item(a["product"])
        assert item is not None
        if not is_plu(item.code):
            raise self.fail(f"{item.name} has a barcode, not a PLU: scan it")
        self.event(type="input", action="plu", plu=item.code)
        return f"key PLU {item.code} ({item.name}) on the screen"

    def _units(self, a: dict[str, Any]) -> list[_Unit]:
        refs = a["products"] if "products" in a else [a["product"]] * a["qty"]
        units = []
        for ref in refs:
            item = self.item(ref, allow_unknown="weight_g" in a)
            if item is not None and item.by_weight:
                if "weight_g" not in a or len(refs) != 1:
                    raise self.fail(f"{item.name} is sold by weight: place one pick with its 'weight_g'")
                units.append(_Unit(item, item.code, a["weight_g"]))
            elif "weight_g" in a:
                units.append(_Unit(item, item.code if item else ref, a["weight_g"]))
            else:
                assert item is not None
                if item.true_weight_g is None:
                    raise self.fail(f"{item.name}: the catalog gives no weight; say 'weight_g'")
                sd = item.true_sd_g
                w = self.rng.normal(item.true_weight_g, sd) if sd > 0 else item.true_weight_g
                units.append(
                    _Unit(item, item.code, float(np.clip(w, item.true_weight_g - 3 * sd, item.true_weight_g + 3 * sd)))
                )
        return units

    def _place(self, a: dict[str, Any]) -> str:
        units = self._units(a)
        mass = sum(u.weight_g for u in units)
        rng = self.rng
        if a.get("drop"):
            transfer, ring = float(rng.uniform(0.02, 0.06)), float(rng.uniform(0.4, 1.5))
        else:
            median = 0.35 if mass < 4000 else 0.8
            transfer = a.get("transfer_s", float(np.clip(rng.lognormal(np.log(median), 0.5), 0.1, 1.8)))
            ring = float(rng.uniform(0.02, 0.25))
        hand = a.get("hand")
        rest = HandRest(hand["force_g"], hand["seconds"], hand["release_s"]) if hand else None
        item_id = self._new_lump(units)
        self.actions.append(Place(self.t, item_id, mass, transfer, ring, rest))
        self._maybe_knock(self.t + transfer, 0.1, exclude=item_id)
        self.t += transfer + (rest.hold_s + rest.release_s if rest else 0.0)
        names = _describe(units)
        how = "drop" if a.get("drop") else "put"
        extra = f", then press on it with about {hand['force_g']:.0f} g for {hand['seconds']:g} s" if hand else ""
        return f"{how} {names} in the basket{extra}"

    def _new_lump(self, units: list[_Unit]) -> int:
        item_id = self.next_item
        self.next_item += 1
        self.lumps[item_id] = list(units)
        return item_id

    def _maybe_knock(self, t: float, p: float, exclude: int | None = None) -> None:
        others = [i for i in self.lumps if i != exclude]
        if others and self.rng.random() < p:
            victim = others[int(self.rng.integers(len(others)))]
            self.actions.append(Shift(t + float(self.rng.uniform(0, 0.3)), victim, float(self.rng.uniform(0.05, 0.4))))

    def _find(self, ref: str) -> list[tuple[int, _Unit]]:
        item = self.item(ref, allow_unknown=True)
        code = item.code if item else ref
        return [(i, u) for i in sorted(self.lumps, reverse=True) for u in self.lumps[i] if u.code == code]

    def _remove(self, a: dict[str, Any]) -> str:
        found = self._find(a["product"])
        if len(found) < a["qty"]:
            raise self.fail(f"{a['qty']} x {a['product']} to take out, but the basket holds {len(found)}")
        taking = found[: a["qty"]]
        rng = self.rng
        for item_id in dict.fromkeys(i for i, _ in taking):
            units = [u for i, u in taking if i == item_id]
            grip_s, lift_s = float(rng.uniform(0.15, 0.6)), float(np.clip(rng.lognormal(np.log(0.3), 0.4), 0.1, 1.0))
            grip_g = float(np.clip(rng.lognormal(np.log(40), 0.7), 5, 400))
            self.actions.append(
                Lift(
                    self.t,
                    item_id,
                    sum(u.weight_g for u in units),
                    grip_g,
                    grip_s,
                    lift_s,
                    float(rng.uniform(0.02, 0.3)),
                )
            )
            self._maybe_knock(self.t, 0.3, exclude=item_id)
            for unit in units:
                self.lumps[item_id].remove(unit)
            if not self.lumps[item_id]:
                del self.lumps[item_id]
            self.t += grip_s + lift_s + 0.3
        return f"take {_describe([u for _, u in taking])} out of the basket"

    def _announce_removal(self, a: dict[str, Any]) -> str:
        item = self.item(a["product"], allow_unknown=True)
        code = item.code if item else a["product"]
        self.event(type="input", action="remove", code=code)
        return f"tell the screen that {item.name if item else code} comes out"

    def _hand(self, a: dict[str, Any]) -> str:
        rest = HandRest(a["force_g"], a["seconds"], a["release_s"])
        # a hand with nothing in it: a weightless "placement" carrying only the hand's force
        self.actions.append(Place(self.t, self._new_lump([]), 0.0, 0.05, 0.0, rest))
        self.t += a["seconds"] + a["release_s"]
        return f"press on the goods in the basket with about {a['force_g']:.0f} g for {a['seconds']:g} s"

    def _shift(self, a: dict[str, Any]) -> str:
        found = self._find(a["product"])
        if not found:
            raise self.fail(f"{a['product']} is not in the basket")
        self.actions.append(Shift(self.t, found[0][0], float(self.rng.uniform(0.1, 0.4))))
        self.t += 0.3
        return f"tip over {a['product']} inside the basket"

    def _cable_pull(self, a: dict[str, Any]) -> str:
        self.gaps.append((self.t, self.t + a["seconds"]))  # the story goes on while the cable is out
        return f"pull the scale cable for {a['seconds']:g} s, then plug it back in"

    def _camera_fault(self, a: dict[str, Any]) -> str:
        t, back = self.t, self.t + a["seconds"]  # the story goes on while the camera is out
        while t < back:
            self.frames.append((t, "broken.png"))
            t += 0.5
        for k in range(3):  # the camera is back: frames of the basket again
            self.frames.append((back + k / CAMERA_FPS, "blank.png"))
        return f"cover or unplug the camera for {a['seconds']:g} s"

    def _checkout(self, a: dict[str, Any]) -> str:
        self.event(type="input", action="checkout")
        return "press 'pay' on the screen"

    def _show_code(self, text: str) -> None:
        # The camera streams all the time; between showings it sees only the basket, so frames of
        # the empty view are kept just around each showing (enough for the reader to see the item
        # arrive and leave) and the identical ones in between are left out.
        n = int(SHOW_CODE_S * CAMERA_FPS)
        first = self.t - 3 / CAMERA_FPS  # a showing soon after the last one cuts its empty frames short
        self.frames = [(t, name) for t, name in self.frames if t < first or name != "blank.png"]
        for k in range(-3, n + int(BLANK_AFTER_S * CAMERA_FPS)):
            t = self.t + k / CAMERA_FPS
            if t >= 0:
                self.frames.append((t, f"code-{text}-{k % 4}.png" if 0 <= k < n else "blank.png"))


def _describe(units: list[_Unit]) -> str:
    counts: dict[str, int] = {}
    for u in units:
        name = u.item.name if u.item else f"the unlisted item {u.code}"
        counts[name] = counts.get(name, 0) + 1
    return " and ".join(f"{n} x {name}" if n > 1 else name for name, n in counts.items())


def _played(scenario: Scenario) -> _Builder:
    """The story's timeline, played against its catalog."""
    try:
        catalog = load_scenario_catalog(scenario.catalog_path)
    except ScenarioCatalogError as exc:
        raise ScenarioError(scenario.path, str(exc)) from None
    builder = _Builder(scenario, catalog)
    builder.run()
    return builder


def scan_times(scenario: Scenario) -> list[tuple[float, str]]:
    """(t, text) of every scan in the story, from its timeline alone (nothing rendered or written)."""
    builder = _played(scenario)
    return [(t, text) for timing in builder.timings for t, text, _ in timing.scans]


def compile_scenario(scenario: Scenario, out_dir: Path, block_s: float = 1.0) -> Compiled:
    """Write OUT_DIR/trace.jsonl and OUT_DIR/catalog.csv (and frames/); returns the timeline."""
    builder = _played(scenario)
    catalog = builder.catalog
    duration = builder.t + scenario.end_s
    sps = float(scenario.scale.get("sps", 80.0))
    params = draw_scale_params(builder.rng, sps)
    overrides = {k: float(v) for k, v in scenario.scale.items() if k not in ("unit", "sps")}
    params = replace(params, **overrides)
    force, _ = render_grams(params, builder.actions, duration, builder.rng)
    counts = measure_counts(params, force, builder.rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog.write_spec_csv(out_dir / "catalog.csv")
    if scenario.camera == "frames":
        write_frames(out_dir / "frames", builder.frames, scenario.path)
    unit = scenario.scale.get("unit", "counts")
    if unit == "counts":
        values: list[Any] = counts.tolist()
        scale = {"unit": "counts", "offset": params.offset_counts, "counts_per_gram": params.counts_per_gram}
    else:
        values = np.round((counts - params.offset_counts) / params.counts_per_gram, 2).tolist()
        scale = {"unit": "g"}
    header = {
        "type": "header",
        "version": 1,
        "catalog": "catalog.csv",
        "scale": scale,
        "cart_id": "hil-rig",
        "session_id": scenario.name,
    }
    events = [e for timing in builder.timings for e in timing.events]
    events += [{"t": round(t, 3), "type": "frame", "image": f"frames/{name}"} for t, name in builder.frames]
    events.sort(key=lambda e: e["t"])
    lines = [header, *merge_blocks(values, sps, events, builder.gaps, block_s)]
    lines.append({"type": "end", "t": round(max(duration, lines[-1].get("t", 0.0)), 3)})
    with (out_dir / "trace.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    return Compiled(scenario, out_dir, duration, sps, builder.timings, catalog, _by_weight(builder), builder.gaps)


def _by_weight(builder: _Builder) -> dict[str, float]:
    grams: dict[str, float] = {}
    for units in builder.lumps.values():
        for u in units:
            if u.item is not None and u.item.by_weight:
                key = code_key(u.code)
                grams[key] = grams.get(key, 0.0) + u.weight_g
    return grams
