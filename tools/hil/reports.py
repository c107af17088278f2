"""What `cartctl hil run` leaves behind: JUnit XML for CI, and one HTML page with a plot per scenario
(the weight the scale read, the scans and touches, the alerts the cart showed) and, for each
scenario, what was expected against what the cart did.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np

from tools.hil.targets import ERROR, FAILED, PASSED, SKIPPED, RunResult

STATUS_COLOUR = {PASSED: "#1a7f37", FAILED: "#cf222e", ERROR: "#9a6700", SKIPPED: "#57606a"}


def write_junit(results: list[RunResult], path: Path) -> None:
    counts = Counter(r.status for r in results)
    suites = ET.Element("testsuites")
    by_target: dict[str, list[RunResult]] = {}
    for r in results:
        by_target.setdefault(r.target, []).append(r)
    for target, group in by_target.items():
        c = Counter(r.status for r in group)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"hil.{target}",
            tests=str(len(group)),
            failures=str(c[FAILED]),
            errors=str(c[ERROR]),
            skipped=str(c[SKIPPED]),
            time=f"{sum(r.wall_s for r in group):.3f}",
        )
        for r in group:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"hil.{target}",
                name=r.scenario.name,
                file=str(r.scenario.path),
                time=f"{r.wall_s:.3f}",
            )
            if r.status == FAILED:
                failure = ET.SubElement(case, "failure", message="; ".join(r.problems)[:500], type="expectation")
                failure.text = "\n".join(r.problems)
            elif r.status == ERROR:
                error = ET.SubElement(case, "error", message=r.message[:500], type="rig")
                error.text = r.message + ("\n" + r.log[-4000:] if r.log else "")
            elif r.status == SKIPPED:
                ET.SubElement(case, "skipped", message=r.message)
            if r.report is not None:
                ET.SubElement(case, "system-out").text = json.dumps(r.report, indent=1)
    suites.set("tests", str(len(results)))
    suites.set("failures", str(counts[FAILED]))
    suites.set("errors", str(counts[ERROR]))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def plot_result(result: RunResult, path: Path) -> bool:
    """PNG of the weight trace with scans, touches, cable pulls and alerts; False when no samples."""
    if result.samples_t is None or result.samples_t.size == 0 or result.compiled is None:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    compiled = result.compiled
    fig, ax = plt.subplots(figsize=(11, 3.6), dpi=90)
    ax.plot(result.samples_t, result.samples_g, lw=0.6, color="#0969da", label="scale (g)")
    lo, hi = np.percentile(result.samples_g, [0.5, 99.5])  # pushing shakes by kilograms: keep steps readable
    top = float(max(hi, 50.0))
    ax.set_ylim(min(float(lo), 0.0) - 0.05 * top, top * 1.3)
    marks = {
        "scan": ("#1a7f37", "scan"),
        "plu": ("#1a7f37", "PLU"),
        "announce_removal": ("#bc4c00", "remove?"),
        "checkout": ("#24292f", "checkout"),
    }
    for timing in compiled.steps:
        kind = timing.step.kind
        if kind in marks:
            colour, label = marks[kind]
            ax.axvline(timing.t0, color=colour, ls="--", lw=0.8)
            ax.text(timing.t0, top * 1.02, label, rotation=90, fontsize=7, color=colour, va="bottom", ha="right")
        elif kind in ("push", "bump"):
            ax.axvspan(timing.t0, timing.t1, color="#afb8c1", alpha=0.25, lw=0)
        elif kind in ("cable_pull", "camera_fault"):
            ax.axvspan(timing.t0, timing.t0 + timing.step.args["seconds"], color="#cf222e", alpha=0.12, lw=0)
    for alert in (result.report or {}).get("alerts", []):
        resolved = bool(alert.get("resolved"))
        ax.plot(
            [alert["t"]],
            [top * 0.9],
            marker="v",
            ms=9,
            color="#cf222e",
            markerfacecolor="white" if resolved else "#cf222e",
        )
        ax.text(
            alert["t"],
            top * 0.8,
            alert["kind"] + (" (resolved)" if resolved else ""),
            fontsize=7,
            color="#cf222e",
            rotation=90,
            va="top",
        )
    ax.set_xlabel("session time (s)")
    ax.set_ylabel("grams")
    ax.set_xlim(0, compiled.duration_s)
    ax.set_title(f"{result.scenario.name} on {result.target}: {result.status}", fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def write_html(results: list[RunResult], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = Counter(r.status for r in results)
    rows, sections = [], []
    for r in results:
        anchor = f"{r.target}-{r.scenario.name}".replace(":", "-").replace("/", "-")
        colour = STATUS_COLOUR[r.status]
        summary = "; ".join(r.problems) if r.problems else r.message
        rows.append(
            f"<tr><td><a href='#{anchor}'>{html.escape(r.scenario.name)}</a></td><td>{html.escape(r.target)}"
            f"</td><td style='color:{colour};font-weight:bold'>{r.status}</td><td>{r.wall_s:.1f} s</td>"
            f"<td>{html.escape(summary)}</td></tr>"
        )
        plot = out_dir / "plots" / f"{anchor}.png"
        image = (
            f"<img src='plots/{plot.name}' alt='weight trace of {html.escape(r.scenario.name)}'>"
            if plot_result(r, plot)
            else "<p><i>no scale samples to plot</i></p>"
        )
        sections.append(_section(r, anchor, colour, image))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>HIL run: {counts[PASSED]} passed, {counts[FAILED]} failed</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top;font-size:13px}} img{{max-width:100%}}
pre{{background:#f6f8fa;padding:8px;font-size:12px;overflow:auto}} h2{{margin-top:2em}}</style></head>
<body><h1>Hardware-in-the-loop run</h1>
<p>{len(results)} scenario runs: {counts[PASSED]} passed, {counts[FAILED]} failed, {counts[ERROR]} errors,
{counts[SKIPPED]} skipped. Plots: the scale's reading (blue), scans and touches (dashed), pushes and bumps
(grey), cable pulls and camera faults (pink), alerts the cart showed (red; hollow = resolved).</p>
<table><tr><th>scenario</th><th>target</th><th>result</th><th>time</th><th>why</th></tr>
{"".join(rows)}</table>
{"".join(sections)}
</body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _section(r: RunResult, anchor: str, colour: str, image: str) -> str:
    expect = r.scenario.expect
    expected = {
        "items": [
            {"product": e.product, "qty": e.qty, **({"weight_g": e.weight_g} if e.weight_g else {})}
            for e in expect.items
        ],
        "total_cents": expect.total_cents,
        "alerts": [{"kind": a.kind, "resolved": "any" if a.resolved is None else a.resolved} for a in expect.alerts],
        "review": {"required": expect.review_required, "reasons": list(expect.review_reasons)},
    }
    got = {k: v for k, v in (r.report or {}).items() if k in ("items", "total_cents", "alerts", "review")}
    problems = "".join(f"<li>{html.escape(p)}</li>" for p in r.problems)
    message = f"<p>{html.escape(r.message)}</p>" if r.message else ""
    steps = "".join(f"<li>{t.t0:.1f} s: {html.escape(t.prompt)}</li>" for t in (r.compiled.steps if r.compiled else []))
    return f"""<h2 id="{anchor}">{html.escape(r.scenario.name)} <small style="color:{colour}">{r.status}
({html.escape(r.target)}, {r.wall_s:.1f} s)</small></h2>
<p>{html.escape(r.scenario.description)}</p>{message}<ul>{problems}</ul>{image}
<details><summary>steps</summary><ol>{steps}</ol></details>
<table><tr><th>expected</th><th>the cart said</th></tr><tr><td><pre>{html.escape(json.dumps(expected, indent=1))}</pre>
</td><td><pre>{html.escape(json.dumps(got, indent=1))}</pre></td></tr></table>
"""
