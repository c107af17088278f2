"""Hardware-in-the-loop scenarios: a shopping story in YAML, with what a correct cart does about it.

A scenario file reads like the story it tells:

    name: gum-light-item
    description: A 15 g pack of gum is scanned and dropped in; the cart must still see it.
    steps:
      - push: 8
      - scan: gum
      - place: {product: gum, drop: true}
      - checkout
    expect:
      items: [{product: gum, qty: 1}]
      alerts: []
      review: false

Steps (each a one-key mapping, or a bare word for steps without arguments):

| step | argument | what happens |
| --- | --- | --- |
| `wait` | seconds | nothing |
| `push` | seconds, or `{seconds, intensity, threshold}` | the cart is pushed (vibration, tile joints, bumps) |
| `bump` | nothing, or `{seconds}` | the standing cart is knocked (a big jolt rings the basket) |
| `scan` | product, or `{product, text, symbology}`, or `{code}` | one beep (or the code held to the camera) |
| `plu` | product | the shopper keys a produce PLU |
| `place` | product, or `{product or products, qty, weight_g, drop, transfer_s, hand}` | units go in together |
| `remove` | product, or `{product, qty}` | units are lifted out of the basket |
| `announce_removal` | product | the shopper tells the screen which item comes out |
| `hand` | `{force_g, seconds, release_s}` | a hand presses on the goods in the basket |
| `shift` | product | an item in the basket slides or tips over |
| `cable_pull` | seconds | the scale cable is out from now on for that long (the story goes on) |
| `camera_fault` | seconds | unreadable frames from now on for that long (needs `camera: frames`) |
| `checkout` | nothing | the shopper asks to pay |

Any step takes `then: seconds` (the pause after it; each kind has a natural default) and `note:`
(shown with the rig's prompt). `hand` inside `place` is `{force_g, seconds, release_s}`.

Expectations (all required except `total_cents`): `items` is the exact bill (each line
`{product, qty}` or, sold by weight, `{product, weight_g}` with `weight_g` defaulting to what was
really put in); `alerts` is the exact list of alerts shown, each `{kind, resolved: true|false|any}`;
`review` is `false`, `true`, or `{required, reasons}` (reasons that must be among the cart's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCENARIO_SUFFIXES = (".yaml", ".yml")
STEP_KINDS = (
    "wait", "push", "bump", "scan", "plu", "place", "remove", "announce_removal", "hand", "shift",
    "cable_pull", "camera_fault", "checkout",
)  # fmt: skip
ALERT_KINDS = (
    "unscanned_item", "weight_mismatch", "scan_not_placed", "unknown_code", "removal_unidentified",
    "scale_fault", "camera_fault",
)  # fmt: skip
SCALE_KEYS = {"unit", "sps", "noise_sd_g", "vib_rms", "glitch_p", "creep", "ring_zeta", "big_bump_per_s"}
TOP_KEYS = {"name", "description", "seed", "catalog", "camera", "scale", "start_s", "end_s", "steps", "expect"}
EXPECT_KEYS = {"items", "total_cents", "alerts", "review"}


class ScenarioError(ValueError):
    """A scenario that cannot be used; `str()` names the file and, where it applies, the step."""

    def __init__(self, path: Path, message: str, step: int | None = None, kind: str | None = None) -> None:
        where = str(path) if step is None else f"{path}: step {step}" + (f" ({kind})" if kind else "")
        super().__init__(f"{where}: {message}")
        self.path, self.step = path, step


@dataclass(frozen=True, slots=True)
class Step:
    index: int  # 1-based, as a reader counts the list
    kind: str
    args: dict[str, Any]
    then_s: float | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ExpectedLine:
    product: str
    qty: int = 1
    weight_g: float | None = None  # by-weight lines: None = what really went in


@dataclass(frozen=True, slots=True)
class ExpectedAlert:
    kind: str
    resolved: bool | None  # None: either


@dataclass(frozen=True, slots=True)
class Expectations:
    items: tuple[ExpectedLine, ...]
    alerts: tuple[ExpectedAlert, ...]
    review_required: bool
    review_reasons: tuple[str, ...] = ()
    total_cents: int | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    path: Path
    name: str
    description: str
    steps: tuple[Step, ...]
    expect: Expectations
    catalog_path: Path
    seed: int
    camera: str = "scanner"  # "scanner": code events; "frames": camera frames the cart decodes
    scale: dict[str, Any] = field(default_factory=dict)
    start_s: float = 3.0
    end_s: float = 4.0

    def has_step(self, *kinds: str) -> bool:
        return any(step.kind in kinds for step in self.steps)


def default_catalog() -> Path:
    return Path(__file__).resolve().parent / "scenarios" / "catalog.csv"


def find_scenarios(paths: list[Path]) -> list[Path]:
    """Scenario files named directly, or every *.yaml inside the folders named (sorted)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SCENARIO_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioError(path, "no such scenario file or folder")
    return found


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(path, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioError(path, "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(path, f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    return parse_scenario(path, data)


def parse_scenario(path: Path, data: Any) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(path, "a scenario is a YAML mapping with 'steps' and 'expect'")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ScenarioError(path, f"unknown key(s) {sorted(unknown)}; known: {sorted(TOP_KEYS)}")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise ScenarioError(path, f"'name' must be letters, digits, '-' and '_', got {name!r}")
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise ScenarioError(path, "'steps' must be a non-empty list")
    steps = tuple(_step(path, i, raw) for i, raw in enumerate(steps_raw, start=1))
    camera = data.get("camera", "scanner")
    if camera not in ("scanner", "frames"):
        raise ScenarioError(path, f"'camera' must be 'scanner' or 'frames', got {camera!r}")
    if camera != "frames" and any(s.kind == "camera_fault" for s in steps):
        bad = next(s for s in steps if s.kind == "camera_fault")
        raise ScenarioError(path, "a camera fault needs 'camera: frames'", bad.index, bad.kind)
    scale = data.get("scale", {}) or {}
    if not isinstance(scale, dict) or set(scale) - SCALE_KEYS:
        raise ScenarioError(path, f"'scale' takes only {sorted(SCALE_KEYS)}")
    if scale.get("unit", "counts") not in ("g", "counts"):
        raise ScenarioError(path, "scale 'unit' must be 'g' or 'counts'")
    catalog = data.get("catalog")
    catalog_path = default_catalog() if catalog is None else (path.parent / str(catalog))
    seed = data.get("seed")
    if seed is None:
        seed = sum(ord(c) * 31**i for i, c in enumerate(name)) % 2**31  # stable across runs
    elif not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ScenarioError(path, f"'seed' must be a non-negative integer, got {seed!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError(path, "'description' must be text")
    return Scenario(
        path=path,
        name=name,
        description=" ".join(description.split()),
        steps=steps,
        expect=_expect(path, data.get("expect")),
        catalog_path=catalog_path,
        seed=seed,
        camera=camera,
        scale=dict(scale),
        start_s=_number(path, data.get("start_s", 3.0), "start_s", minimum=1.0),
        end_s=_number(path, data.get("end_s", 4.0), "end_s", minimum=0.5),
    )


# -- steps --------------------------------------------------------------------------------------------

_ARGS: dict[str, set[str]] = {
    "push": {"seconds", "intensity", "threshold"},
    "bump": {"seconds"},
    "scan": {"product", "text", "symbology", "code"},
    "place": {"product", "products", "qty", "weight_g", "drop", "transfer_s", "hand"},
    "remove": {"product", "qty"},
    "hand": {"force_g", "seconds", "release_s"},
}
_SCALAR: dict[str, str] = {
    "wait": "seconds", "push": "seconds", "cable_pull": "seconds", "camera_fault": "seconds",
    "scan": "product", "plu": "product", "place": "product", "remove": "product",
    "announce_removal": "product", "shift": "product", "bump": "seconds",
}  # fmt: skip


def _step(path: Path, index: int, raw: Any) -> Step:
    if isinstance(raw, str):
        raw = {raw: None}
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(
            path, f"a step is a mapping like '- scan: gum' or a word like '- checkout', got {raw!r}", index
        )
    extras = {k: raw[k] for k in ("then", "note") if k in raw}
    kinds = [k for k in raw if k not in extras]
    if len(kinds) != 1:
        raise ScenarioError(path, f"one step kind per list entry, got {kinds}", index)
    kind = kinds[0]
    if kind not in STEP_KINDS:
        raise ScenarioError(path, f"unknown step {kind!r}; known: {', '.join(STEP_KINDS)}", index)
    value = raw[kind]
    if isinstance(value, dict):
        args = dict(value)
        allowed = _ARGS.get(kind, {_SCALAR.get(kind, "")})
        unknown = set(args) - allowed
        if unknown:
            raise ScenarioError(path, f"unknown argument(s) {sorted(unknown)}; known: {sorted(allowed)}", index, kind)
    elif value is None:
        args = {}
    elif kind in _SCALAR:
        args = {_SCALAR[kind]: value}
    else:
        raise ScenarioError(path, f"takes no argument, got {value!r}", index, kind)
    then_s = None
    if "then" in extras:
        then_s = _number(path, extras["then"], "then", minimum=0.0, step=index, kind=kind)
    note = extras.get("note", "")
    if not isinstance(note, str):
        raise ScenarioError(path, "'note' must be text", index, kind)
    _check_args(path, index, kind, args)
    return Step(index, kind, args, then_s, note)


def _check_args(path: Path, index: int, kind: str, args: dict[str, Any]) -> None:
    def need(key: str) -> None:
        if key not in args:
            raise ScenarioError(path, f"needs '{key}'", index, kind)

    def seconds(key: str, minimum: float = 0.0) -> None:
        if key in args:
            args[key] = _number(path, args[key], key, minimum=minimum, step=index, kind=kind)

    def product(key: str) -> None:
        if key in args:
            if isinstance(args[key], int) and not isinstance(args[key], bool):
                args[key] = str(args[key])  # a PLU written as a number
            if not isinstance(args[key], str) or not args[key]:
                raise ScenarioError(path, f"'{key}' must name a product (alias or code)", index, kind)

    if kind in ("wait", "cable_pull", "camera_fault"):
        need("seconds")
        seconds("seconds", 0.6 if kind != "wait" else 0.0)
    elif kind == "push":
        need("seconds")
        seconds("seconds", 2.0)
        seconds("intensity", 0.05)
        if not isinstance(args.get("threshold", False), bool):
            raise ScenarioError(path, "'threshold' is true or false", index, kind)
    elif kind == "bump":
        seconds("seconds", 1.5)
    elif kind == "scan":
        if "code" in args:
            args["code"] = str(args["code"])
            if set(args) - {"code", "symbology"}:
                raise ScenarioError(path, "'code' (a raw code) goes without 'product' or 'text'", index, kind)
        else:
            need("product")
            product("product")
        if "text" in args:
            args["text"] = str(args["text"])
    elif kind == "place":
        if ("product" in args) == ("products" in args):
            raise ScenarioError(path, "give 'product' or a list 'products'", index, kind)
        if "products" in args:
            items = args["products"]
            if not isinstance(items, list) or not items:
                raise ScenarioError(path, "'products' must be a non-empty list", index, kind)
            args["products"] = [str(p) for p in items]
        product("product")
        _qty(path, index, kind, args)
        seconds("weight_g", 0.1)
        seconds("transfer_s", 0.02)
        if not isinstance(args.get("drop", False), bool):
            raise ScenarioError(path, "'drop' is true or false", index, kind)
        if "hand" in args:
            args["hand"] = _hand(path, index, args["hand"])
    elif kind == "remove":
        need("product")
        product("product")
        _qty(path, index, kind, args)
    elif kind in ("plu", "announce_removal", "shift"):
        need("product")
        product("product")
    elif kind == "hand":
        args.update(_hand(path, index, args))


def _qty(path: Path, index: int, kind: str, args: dict[str, Any]) -> None:
    qty = args.get("qty", 1)
    if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= 24:
        raise ScenarioError(path, f"'qty' must be a whole number from 1 to 24, got {qty!r}", index, kind)
    args["qty"] = qty


def _hand(path: Path, index: int, raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict) or set(raw) - {"force_g", "seconds", "release_s"} or "force_g" not in raw:
        raise ScenarioError(path, "a hand is {force_g, seconds, release_s}", index, "hand")
    return {
        "force_g": _number(path, raw["force_g"], "force_g", minimum=1.0, step=index, kind="hand"),
        "seconds": _number(path, raw.get("seconds", 1.0), "seconds", minimum=0.1, step=index, kind="hand"),
        "release_s": _number(path, raw.get("release_s", 0.3), "release_s", minimum=0.05, step=index, kind="hand"),
    }


def _number(
    path: Path, value: Any, key: str, *, minimum: float, step: int | None = None, kind: str | None = None
) -> float:
    """A finite number >= minimum (seconds, grams, a factor)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < minimum:
        raise ScenarioError(path, f"'{key}' must be a number >= {minimum:g}, got {value!r}", step, kind)
    return float(value)


# -- expectations -------------------------------------------------------------------------------------


def _expect(path: Path, raw: Any) -> Expectations:
    if not isinstance(raw, dict):
        raise ScenarioError(path, "'expect' must be a mapping with items, alerts and review")
    unknown = set(raw) - EXPECT_KEYS
    if unknown:
        raise ScenarioError(path, f"expect: unknown key(s) {sorted(unknown)}; known: {sorted(EXPECT_KEYS)}")
    for key in ("items", "alerts", "review"):
        if key not in raw:
            raise ScenarioError(path, f"expect: '{key}' is required (say what a correct cart does)")
    items_raw, alerts_raw = raw["items"] or [], raw["alerts"] or []
    if not isinstance(items_raw, list) or not isinstance(alerts_raw, list):
        raise ScenarioError(path, "expect: 'items' and 'alerts' are lists")
    items = []
    for i, line in enumerate(items_raw, start=1):
        if isinstance(line, str):
            line = {"product": line}
        if not isinstance(line, dict) or "product" not in line or set(line) - {"product", "qty", "weight_g"}:
            raise ScenarioError(path, f"expect: items[{i}] must be {{product, qty}} or {{product, weight_g}}")
        qty = line.get("qty", 1)
        if not isinstance(qty, int) or isinstance(qty, bool) or qty < 1:
            raise ScenarioError(path, f"expect: items[{i}] qty must be a whole number >= 1")
        weight = line.get("weight_g")
        if weight is not None:
            weight = _number(path, weight, f"items[{i}].weight_g", minimum=0.1)
        items.append(ExpectedLine(str(line["product"]), qty, weight))
    alerts = []
    for i, alert in enumerate(alerts_raw, start=1):
        if isinstance(alert, str):
            alert = {"kind": alert, "resolved": "any"}
        if not isinstance(alert, dict) or set(alert) - {"kind", "resolved"} or alert.get("kind") not in ALERT_KINDS:
            raise ScenarioError(
                path, f"expect: alerts[{i}] must be {{kind, resolved}} with kind one of {', '.join(ALERT_KINDS)}"
            )
        resolved = alert.get("resolved", "any")
        if resolved not in (True, False, "any"):
            raise ScenarioError(path, f"expect: alerts[{i}] resolved is true, false or any")
        alerts.append(ExpectedAlert(alert["kind"], None if resolved == "any" else resolved))
    review = raw["review"]
    reasons: tuple[str, ...] = ()
    if isinstance(review, dict):
        if set(review) - {"required", "reasons"} or not isinstance(review.get("required"), bool):
            raise ScenarioError(path, "expect: review is true, false or {required, reasons}")
        reasons_raw = review.get("reasons", []) or []
        if not isinstance(reasons_raw, list) or not all(isinstance(r, str) for r in reasons_raw):
            raise ScenarioError(path, "expect: review reasons is a list of words")
        reasons, review = tuple(reasons_raw), review["required"]
    if not isinstance(review, bool):
        raise ScenarioError(path, "expect: review is true, false or {required, reasons}")
    if reasons and not review:
        raise ScenarioError(path, "expect: review reasons given but review not required")
    total = raw.get("total_cents")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool) or total < 0):
        raise ScenarioError(path, "expect: total_cents must be a whole number of cents")
    return Expectations(tuple(items), tuple(alerts), review, reasons, total)
