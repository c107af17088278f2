"""Batch timestamping and the in-process fake source."""

from __future__ import annotations

import itertools

import pytest

from firmware.core.events import ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale.fake_source import FakeScaleSource
from firmware.scale.monitor import Monitor, format_line
from firmware.scale.source import _Timing


def test_timing_is_continuous_and_absorbs_arrival_jitter() -> None:
    timing = _Timing()
    t0 = timing.stamp(10.0, 8, 0, 80.0)
    assert t0 == pytest.approx(10.0 - 7 / 80)
    # three batches read at once (arrival jitter): still 0.1 s apart
    ts = [timing.stamp(10.35, 8, 0, 80.0) for _ in range(3)]
    assert ts[0] == pytest.approx(t0 + 0.1, abs=0.01)
    assert [b - a for a, b in zip([t0, *ts], ts, strict=False)] == pytest.approx([0.1] * 3, abs=0.01)
    # a gap of 16 samples moves the clock on by 0.2 s
    t_gap = timing.stamp(10.7, 8, 16, 80.0)
    assert t_gap - ts[-1] == pytest.approx(0.1 + 0.2, abs=0.01)
    # a long stall re-anchors on the arrival time, never going backwards
    t_late = timing.stamp(20.0, 8, 0, 80.0)
    assert t_late == pytest.approx(20.0 - 7 / 80)
    assert timing.stamp(0.0, 8, 0, 80.0) >= t_late


def test_fake_source_on_a_simulated_clock() -> None:
    now = [0.0]
    source = FakeScaleSource(lambda t: 0.0 if t < 1.0 else 612.0, clock=lambda: now[0])
    events = []
    for _ in range(40):
        now[0] += 0.05
        events += source.poll()
    sampled = [e for e in events if isinstance(e, ScaleSampled)]
    values = [g for e in sampled for g in e.values_g]
    assert len(values) == 160  # 2 s at 80/s in batches of 8
    assert values[79] == 0.0 and values[80] == 612.0
    assert all(b.t - a.t == pytest.approx(0.1) for a, b in itertools.pairwise(sampled))
    source.fail("cable")
    now[0] += 1.0
    assert [type(e) for e in source.poll()] == [ScaleFaulted]
    source.restore()
    now[0] += 0.5
    events = source.poll()
    assert isinstance(events[0], ScaleRestored) and events[0].t == pytest.approx(3.0)
    assert sum(len(e.values_g) for e in events[1:]) == 40


def test_monitor_reports_mean_of_last_second() -> None:
    now = [0.0]
    source = FakeScaleSource(lambda t: 100.0 if t < 1.5 else 300.0, clock=lambda: now[0])
    monitor = Monitor(source, clock=lambda: now[0])
    for _ in range(60):
        now[0] += 0.05
        monitor.feed(0.0)
    report = monitor.report(final=True)
    assert report["grams"] == pytest.approx(300.0)
    assert report["samples"] == 240 and report["final"] is True
    assert "300.0 g" in format_line(report)
