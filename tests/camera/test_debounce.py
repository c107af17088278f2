"""ScanDebouncer: held item = one scan, re-entry = second unit, unknown/invalid rejected."""

from __future__ import annotations

import pytest

from firmware.camera.debounce import ScanDebouncer
from firmware.camera.decoders import Decoded
from firmware.camera.reader import Candidate
from firmware.core.events import CodeRead

COLA = "5449000039231"
KNOWN = {COLA, "4006381333931"}


def cand(text=COLA, attempts=("zxing", "zbar"), decoders=("zbar", "zxing"), symbology="ean13"):
    key = text.zfill(14)
    return Candidate(Decoded(text, symbology, key, decoders[0]), len(attempts), tuple(decoders), tuple(attempts))


def run(debouncer, frames, fps=30.0):
    out = []
    for i, cands in enumerate(frames):
        out += debouncer.update(i / fps, cands)
    return out


def make():
    return ScanDebouncer(lambda text: text in KNOWN)


def test_item_held_in_view_is_one_scan():
    scans = run(make(), [[cand()]] * 60)
    assert scans == [CodeRead(0.0, COLA, "ean13", source="camera")]


def test_flicker_while_held_is_still_one_scan():
    frames = ([[cand()]] * 5 + [[]] * 2) * 8  # missed for 2 frames (67 ms) now and then
    assert len(run(make(), frames)) == 1


def test_same_code_after_leaving_view_is_a_second_unit():
    frames = [[cand()]] * 10 + [[]] * 30 + [[cand()]] * 10
    scans = run(make(), frames)
    assert [s.text for s in scans] == [COLA, COLA]
    assert scans[1].t == pytest.approx(40 / 30)


def test_absence_needs_time_and_frames():
    d = make()
    assert d.update(0.0, [cand()])
    d.update(5.0, [])  # one frame after a long gap (dropped frames): not yet gone
    assert d.update(5.1, [cand()]) == []


def test_unknown_code_is_rejected():
    d = make()
    assert run(d, [[cand("4000539017100")]] * 20) == []
    assert d.stats.rejected_unknown == 20


def test_invalid_check_digit_is_rejected():
    d = ScanDebouncer(lambda text: True)
    assert run(d, [[cand("5449000039232")]] * 5) == []
    assert d.stats.rejected_invalid == 5


def test_variable_measure_code_passes_without_catalog():
    label = "2012345012349"  # in-store label, price embedded; check digit valid
    d = ScanDebouncer(lambda text: False)
    assert [s.text for s in run(d, [[cand(label)]] * 3)] == [label]


def test_single_attempt_repeated_is_not_enough():
    d = make()
    frames = [[cand(attempts=("zbar",), decoders=("zbar",))]] * 30
    assert run(d, frames) == []  # a deterministic decoder repeats its misreads


def test_confirmation_across_frames_by_different_attempts():
    frames = [
        [cand(attempts=("zxing",), decoders=("zxing",))],
        [cand(attempts=("zbar-x2",), decoders=("zbar",))],
    ]
    scans = run(make(), frames)
    assert len(scans) == 1 and scans[0].t == pytest.approx(1 / 30)


def test_two_items_in_view_give_two_scans():
    frames = [[cand(), cand("4006381333931")]] * 10
    assert sorted(s.text for s in run(make(), frames)) == sorted(KNOWN)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        ScanDebouncer(lambda t: True, gone_frames=0)
