"""Inline SVG of the weight trace around an alert, drawn on the server for the review page.

Plain SVG (no script, no external fetch): a polyline of grams against seconds, the alert moment
as a red vertical line, the axis ranges as text. Long traces are thinned to min/max pairs per pixel
column so a spike survives the thinning.
"""

from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 40


def thin(times: list[float], values: list[float], columns: int) -> list[tuple[float, float]]:
    """At most 2 points per column, keeping each column's extremes in time order."""
    if len(values) <= 2 * columns:
        return list(zip(times, values, strict=True))
    out: list[tuple[float, float]] = []
    per = len(values) / columns
    for col in range(columns):
        lo, hi = int(col * per), max(int((col + 1) * per), int(col * per) + 1)
        chunk = range(lo, min(hi, len(values)))
        i_min = min(chunk, key=values.__getitem__)
        i_max = max(chunk, key=values.__getitem__)
        for i in sorted({i_min, i_max}):
            out.append((times[i], values[i]))
    return out


def trace_svg(t0: float, sps: float, values_g: list[float | None], alert_t: float, title: str = "") -> str:
    finite = [(t0 + i / sps, v) for i, v in enumerate(values_g) if v is not None and math.isfinite(v)]
    if not finite:
        return '<p class="no-trace">no weight samples around this alert</p>'
    times, values = [p[0] for p in finite], [p[1] for p in finite]
    t_lo, t_hi = min(times[0], alert_t), max(times[-1], alert_t)
    v_lo, v_hi = min(values), max(values)
    if v_hi - v_lo < 1.0:
        v_lo, v_hi = v_lo - 0.5, v_hi + 0.5
    t_span = max(t_hi - t_lo, 1e-6)
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def x(t: float) -> float:
        return PAD + (t - t_lo) / t_span * plot_w

    def y(v: float) -> float:
        return PAD + (v_hi - v) / (v_hi - v_lo) * plot_h

    points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in thin(times, values, plot_w))
    ax = x(alert_t)
    label = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trace" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="weight trace {label}">'
        f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#999"/>'
        f'<polyline fill="none" stroke="#1f5fa8" stroke-width="1.5" points="{points}"/>'
        f'<line class="alert-moment" x1="{ax:.1f}" y1="{PAD}" x2="{ax:.1f}" y2="{PAD + plot_h}"'
        ' stroke="#c00" stroke-dasharray="4 3"/>'
        f'<text x="{PAD}" y="{PAD - 8}" font-size="12">{label}</text>'
        f'<text x="4" y="{PAD + 4}" font-size="11">{v_hi:.0f} g</text>'
        f'<text x="4" y="{PAD + plot_h}" font-size="11">{v_lo:.0f} g</text>'
        f'<text x="{PAD}" y="{HEIGHT - 12}" font-size="11">{t_lo:.1f} s</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 12}" font-size="11" text-anchor="end">{t_hi:.1f} s</text>'
        "</svg>"
    )
