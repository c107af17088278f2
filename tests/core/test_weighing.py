from __future__ import annotations

import pytest

from firmware.core.events import ScaleFaulted, ScaleMotion, ScaleRestored, WeightSettled
from firmware.core.weighing import Weighing
from tests.core.signals import SPS, Signal, run


def changes(out: list) -> list[WeightSettled]:
    return [e for e in out if isinstance(e, WeightSettled)]


def test_noise_alone_reports_nothing() -> None:
    out = run(Weighing(), Signal(noise_g=1.5).hold(120).samples())
    assert changes(out) == []


def test_pack_of_gum_on_a_loaded_basket_registers() -> None:
    signal = Signal(noise_g=1.2, start_g=3000).hold(3).drop(15, ring_g=20).hold(2)
    found = changes(run(Weighing(), signal.samples()))
    assert len(found) == 1
    assert found[0].delta_g == pytest.approx(15, abs=2.0)


def test_heavy_drop_rings_then_settles_once() -> None:
    signal = Signal(noise_g=1.0).hold(3).drop(6000, ring_g=900, tau_s=0.35).hold(2)
    found = changes(run(Weighing(), signal.samples()))
    assert len(found) == 1
    assert found[0].delta_g == pytest.approx(6000, abs=4.0)


def test_hand_resting_on_the_item_is_not_a_second_change() -> None:
    signal = Signal(noise_g=1.0).hold(3).drop(500, ring_g=60).press(180, tremor_g=9, seconds=1.2).hold(3)
    found = changes(run(Weighing(), signal.samples()))
    assert [round(c.delta_g) for c in found][-1:] != []
    assert sum(c.delta_g for c in found) == pytest.approx(500, abs=3)
    assert len(found) == 1


def test_a_grip_before_an_item_leaves_shows_as_a_rise_and_a_hand_letting_go_does_not() -> None:
    # a hand still on the item when it settles (+60 g), then let go: weight out with no rise
    letting_go = Signal(noise_g=1.0).hold(3).drop(500, ring_g=60).press(60, tremor_g=0.3, seconds=3).hold(3)
    released = changes(run(Weighing(), letting_go.samples()))[-1]
    assert released.delta_g == pytest.approx(-60, abs=3) and released.rise_g < 3
    # an item taken out: gripped (pressed 40 g), then lifted
    lifting = Signal(noise_g=1.0).hold(3).drop(500, ring_g=60).hold(3).lift(500, grip_g=40).hold(3)
    out = changes(run(Weighing(), lifting.samples()))[-1]
    assert out.delta_g == pytest.approx(-500, abs=3) and out.rise_g >= 20


def test_pushing_the_cart_reports_nothing() -> None:
    signal = Signal(noise_g=1.0, start_g=2500).hold(2).push(15).hold(3)
    assert changes(run(Weighing(), signal.samples())) == []


def test_slow_creep_is_followed_not_reported() -> None:
    signal = Signal(noise_g=1.0, start_g=4000).hold(2).ramp(6, seconds=300).hold(2)
    assert changes(run(Weighing(), signal.samples())) == []


def test_change_is_reported_within_half_a_second_of_stillness() -> None:
    signal = Signal(noise_g=1.0).hold(3)
    still_at = signal.t + 1.0  # the drop rings for about a second before it is within the noise
    signal.drop(400, ring_g=100, tau_s=0.2, seconds=4)
    found = changes(run(Weighing(), signal.samples()))
    assert len(found) == 1
    assert found[0].t - still_at <= 0.5


def test_gap_in_samples_is_a_fault_and_the_change_across_it_is_flagged() -> None:
    weighing = Weighing()
    first = Signal(noise_g=1.0).hold(3).samples()
    second = Signal(seed=2, noise_g=1.0, start_g=250).hold(3).samples()
    out = run(weighing, first) + run(weighing, second, t0=10.0)
    kinds = [type(e) for e in out]
    assert kinds[:2] == [ScaleFaulted, ScaleRestored]
    found = changes(out)
    assert len(found) == 1 and found[0].delta_g == pytest.approx(250, abs=2)
    assert found[0].extra.get("across_fault") is True


def test_auto_zero_only_when_the_basket_should_be_empty() -> None:
    drifted = Signal(noise_g=1.0).hold(3).ramp(12, seconds=120).hold(5).samples()
    empty = Weighing()
    assert changes(run(empty, drifted)) == []  # zero follows an empty basket's drift
    assert empty.level_g == pytest.approx(0, abs=1.0)
    loaded = Weighing()
    loaded.expect_empty = False
    found = changes(run(loaded, drifted))
    assert found and all(c.settle_s == 0.0 for c in found)  # reported as slow changes, never absorbed
    assert sum(c.delta_g for c in found) == pytest.approx(12, abs=2.0)
    assert loaded.level_g == pytest.approx(12, abs=2.0)


def test_window_works_at_ten_samples_per_second() -> None:
    weighing = Weighing()
    out = []
    for i in range(100):
        out += weighing.push(i / 10, 0.0 if i < 50 else 452.0, 10)
    assert [c.delta_g for c in changes(out)] == [452.0]
    assert SPS == 80


def test_the_core_hears_when_the_basket_moves_and_when_it_rests_with_nothing_to_report() -> None:
    signal = Signal(noise_g=1.0, start_g=2000).hold(3).push(12).hold(3).drop(450, ring_g=60).hold(2)
    out = run(Weighing(), signal.samples())
    told = [(type(e).__name__, getattr(e, "moving", None)) for e in out if isinstance(e, ScaleMotion | WeightSettled)]
    # pushed (moving, then at rest: no change), then the can (moving, then its settled change)
    assert told == [("ScaleMotion", True), ("ScaleMotion", False), ("ScaleMotion", True), ("WeightSettled", None)]
    motion = [e.t for e in out if isinstance(e, ScaleMotion)]
    assert 3.0 <= motion[0] < 3.5 and 15.0 <= motion[1] < 15.6
