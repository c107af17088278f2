"""The scenario format: clear errors naming the file and step, and what the compiler writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from firmware.core.events import CodeRead, FrameCaptured, PluKeyed, RemovalAnnounced, ScaleSampled
from firmware.core.trace import read_trace
from tests.hil.conftest import SCENARIOS
from tools.hil.compiler import compile_scenario
from tools.hil.scenario import ScenarioError, load_scenario

GOOD_EXPECT = "expect:\n  items: []\n  alerts: []\n  review: false\n"


def write(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("steps:\n  - scan: gum\n  - dance: 3\n" + GOOD_EXPECT, "step 2: unknown step 'dance'"),
        ("steps:\n  - place: {product: gum, colour: red}\n" + GOOD_EXPECT, "step 1 (place): unknown argument"),
        ("steps:\n  - wait: -1\n" + GOOD_EXPECT, "step 1 (wait): 'seconds' must be a number >= 0"),
        ("steps:\n  - push: soon\n" + GOOD_EXPECT, "step 1 (push): 'seconds' must be a number"),
        ("steps:\n  - remove: {qty: 2}\n" + GOOD_EXPECT, "step 1 (remove): needs 'product'"),
        ("steps:\n  - camera_fault: 3\n" + GOOD_EXPECT, "step 1 (camera_fault): a camera fault needs 'camera: frames'"),
        ("steps:\n  - checkout\nexpect:\n  items: []\n  review: false\n", "expect: 'alerts' is required"),
        (
            "steps:\n  - checkout\nexpect:\n  items: []\n  alerts: [{kind: fire}]\n  review: false\n",
            "expect: alerts[1] must be",
        ),
        ("steps: [\n", "not valid YAML at line"),
        ("stepz: []\n", "unknown key(s) ['stepz']"),
    ],
)
def test_bad_scenarios_name_file_and_step(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ("  - scan: caviar\n", "step 1 (scan): no product 'caviar'"),
        ("  - plu: gum\n", "step 1 (plu): Chewing gum 15 g has a barcode, not a PLU"),
        ("  - scan: bananas\n", "step 1 (scan): Bananas is produce"),
        ("  - place: bananas\n", "step 1 (place): Bananas is sold by weight"),
        ("  - scan: gum\n  - remove: rice\n", "step 2 (remove): 1 x rice to take out, but the basket holds 0"),
    ],
)
def test_compile_errors_name_the_step(tmp_path: Path, steps: str, message: str) -> None:
    scenario = load_scenario(write(tmp_path, "steps:\n" + steps + GOOD_EXPECT))
    with pytest.raises(ScenarioError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_scenario(scenario, tmp_path / "out")


def test_compiled_trace_is_valid_cart_trace(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "quick-produce-and-removal.yaml")
    compiled = compile_scenario(scenario, tmp_path / "t")
    trace = read_trace(compiled.trace_dir)
    assert trace.header.scale_unit == "counts" and trace.header.session_id == scenario.name
    kinds = [type(e) for e in trace.events]
    assert kinds.count(PluKeyed) == 1 and kinds.count(CodeRead) == 1 and kinds.count(RemovalAnnounced) == 1
    samples = sum(len(e.values_g) for e in trace.events if isinstance(e, ScaleSampled))
    assert samples == pytest.approx(compiled.duration_s * 80, abs=2)
    # the cart's catalog carries the spec's columns only: what things really weigh stays with the rig
    with (compiled.trace_dir / "catalog.csv").open() as f:
        assert next(csv.reader(f)) == ["code", "name", "price_cents", "sold_by", "weight_g", "weight_sd_g"]
    compile_scenario(scenario, tmp_path / "t2")  # deterministic: the same seed gives the same trace
    assert (tmp_path / "t" / "trace.jsonl").read_bytes() == (tmp_path / "t2" / "trace.jsonl").read_bytes()


def test_cable_pull_is_a_hole_in_the_samples(tmp_path: Path) -> None:
    compiled = compile_scenario(load_scenario(SCENARIOS / "scale-cable-pull.yaml"), tmp_path / "t")
    ((g0, g1),) = compiled.gaps
    lines = [json.loads(line) for line in (compiled.trace_file).read_text().splitlines()]
    for line in lines:
        if line["type"] == "scale":
            first, last = line["t"], line["t"] + (len(line["values"]) - 1) / line["sps"]
            assert last < g0 or first >= g1
    assert g1 - g0 == pytest.approx(4.0)


def test_camera_scenarios_write_frames(tmp_path: Path) -> None:
    compiled = compile_scenario(load_scenario(SCENARIOS / "camera-fault.yaml"), tmp_path / "t")
    trace = read_trace(compiled.trace_dir)
    frames = [e for e in trace.events if isinstance(e, FrameCaptured)]
    assert frames and not any(isinstance(e, CodeRead) for e in trace.events)
    assert all(Path(f.image).exists() for f in frames)
    assert any(f.image.endswith("broken.png") for f in frames)


def test_weight_sold_expectation_uses_what_went_in(tmp_path: Path) -> None:
    compiled = compile_scenario(load_scenario(SCENARIOS / "produce-by-weight.yaml"), tmp_path / "t")
    assert compiled.by_weight_in_basket_g == {"4011": 612.0, "4131": 943.0}
