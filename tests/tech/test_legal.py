"""OIML R76 class III arithmetic: divisions, n limits, load-cell limit, MPE bands."""

from __future__ import annotations

import pytest

from firmware.tech.legal import Check, assess, divisions, is_division, mpe_g


def test_division_series() -> None:
    assert divisions(0.1, 10) == [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
    assert is_division(0.5) and is_division(20) and is_division(1)
    assert not is_division(3) and not is_division(0) and not is_division(float("nan"))


def test_mpe_bands_class_iii() -> None:
    e = 10.0
    assert mpe_g(0, e) == 5.0
    assert mpe_g(5000, e) == 5.0  # 500 e
    assert mpe_g(5001, e) == 10.0
    assert mpe_g(20000, e) == 10.0  # 2000 e
    assert mpe_g(20001, e) == 15.0
    assert mpe_g(20001, e, in_service=True) == 30.0


def test_noise_limits_the_division() -> None:
    report = assess(5000.0, sigma_g=0.5)  # e >= 3 g -> 5 g, n = 1000 >= 500
    assert report.e_noise_g == 5.0 and report.e_g == 5.0 and report.n == 1000 and report.min_g == 100.0


def test_n_max_and_load_cells_push_e_up() -> None:
    report = assess(30000.0, sigma_g=0.05)  # noise allows 0.5 g, but n <= 10000 needs e >= 5 g
    assert report.e_g == 5.0 and report.n == 6000
    limited = assess(30000.0, sigma_g=0.05, cell_intervals=3000)
    assert limited.e_g == 10.0 and limited.n == 3000
    assert any("3000 intervals" in line for line in limited.limits)


def test_small_e_needs_100_divisions_large_e_500() -> None:
    assert assess(150.0, sigma_g=0.01).e_g == 0.1  # n = 1500
    assert assess(150.0, sigma_g=0.3).e_g is None  # needs e >= 1.8 g: n would be below 100
    report = assess(2000.0, sigma_g=1.0)  # noise: e >= 6 g -> 10 g, n = 200 < 500: no fit
    assert report.e_g is None and not report.ok
    assert any("200 < 500" in line for line in report.limits)


def test_checks_against_mpe() -> None:
    report = assess(5000.0, 0.1, None, [Check(1000, 0.9, "linearity"), Check(1000, -1.2, "corner 1")])
    assert report.e_g == 1.0  # n = 5000
    (_, mpe1, ok1), (_, _, ok2) = report.checks
    assert mpe1 == 1.0 and ok1 and not ok2
    assert not report.ok
    assert "EXCEEDS" in "\n".join(report.lines())


def test_bad_input() -> None:
    with pytest.raises(ValueError):
        assess(0, 1)
    with pytest.raises(ValueError):
        assess(1000, -1)
