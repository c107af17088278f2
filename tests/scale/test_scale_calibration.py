from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from firmware.scale import calibration as cal


def test_round_trip(tmp_path: Path) -> None:
    c = cal.Calibration(8123.5, 101.25, dt.date(2025, 3, 14), 1000.0)
    path = cal.save(c, tmp_path / "sub" / "calibration.toml")
    assert cal.load(path) == c
    assert c.grams(8123.5 + 101.25 * 612) == pytest.approx(612)
    assert c.counts(612) == round(8123.5 + 101.25 * 612)


def test_default_path_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cal.ENV_VAR, str(tmp_path / "c.toml"))
    cal.save(cal.Calibration(1.0, 2.0))
    assert cal.load() == cal.Calibration(1.0, 2.0)
    monkeypatch.delenv(cal.ENV_VAR)
    assert cal.default_path() == cal.DEFAULT_PATH


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("offset = 1.0\n", "missing key 'counts_per_gram'"),
        ("offset = 1.0\ncounts_per_gram = 0\n", "non-zero"),
        ("offset = 1.0\ncounts_per_gram = 2\ncolour = 'red'\n", "unknown key 'colour'"),
        ("offset = 'x'\ncounts_per_gram = 2\n", "'offset' must be a number"),
        ("offset = 1\ncounts_per_gram = 2\ndate = 'yesterday'\n", "'date' must be a TOML date"),
        ("offset = 1\ncounts_per_gram = 2\nreference_mass_g = -5\n", "must be positive"),
        ("offset = = 1\n", "not valid TOML"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(cal.CalibrationError, match=message):
        cal.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(cal.CalibrationError, match="no calibration file"):
        cal.load(tmp_path / "absent.toml")
