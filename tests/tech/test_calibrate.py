"""`cartctl calibrate`: unattended against the real firmware in the emulator streaming a scripted
mass, and guided against the in-process fake MCU whose load the test changes at each prompt."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from firmware.scale.calibration import load
from firmware.scale.fake_mcu import FakeMcu, PtyFakeMcu
from firmware.tech.calibrator import CalibrationAborted, Calibrator, Settings
from firmware.tech.settle import RawReader

from .conftest import COUNTS_PER_GRAM, OFFSET, SPS, scripted_counts


def test_unattended_two_masses_on_the_emulated_mcu(tmp_path: Path, emulator: Callable[..., Path], capsys) -> None:
    port = emulator(scripted_counts([(3.5, 0.0), (3.5, 500.0), (3.5, 1000.0)]))
    out = tmp_path / "calibration.toml"
    args = ["calibrate", "--port", str(port), "--mass", "1000", "--mass", "500", "--yes", "--out", str(out)]
    code = main([*args, "--tare-seconds", "1.5", "--reading-seconds", "1.5", "--timeout", "30"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    calibration = load(out)
    assert calibration.counts_per_gram == pytest.approx(COUNTS_PER_GRAM, rel=0.005)
    assert calibration.offset == pytest.approx(OFFSET, abs=15)
    assert calibration.reference_mass_g == 1000.0 and calibration.date is not None
    assert "linearity at 500 g" in printed.out
    linearity = next(line for line in printed.out.splitlines() if line.startswith("linearity at 500 g"))
    assert abs(float(linearity.split("error ")[1].split(" g")[0])) < 1.0
    assert "finest division e = 5 g, n = Max/e = 6000" in printed.out  # 0.3 g noise, Max 30 kg


def test_unattended_refuses_a_swinging_basket(tmp_path: Path, emulator: Callable[..., Path], capsys) -> None:
    rng = random.Random(1)
    swinging = [
        round(OFFSET + COUNTS_PER_GRAM * (20 * math.sin(2 * math.pi * 1.5 * i / SPS) + rng.gauss(0, 0.3)))
        for i in range(SPS * 4)
    ]
    port = emulator(swinging)
    out = tmp_path / "calibration.toml"
    code = main(["calibrate", "--port", str(port), "--mass", "1000", "--yes", "--out", str(out), "--timeout", "3"])
    err = capsys.readouterr().err
    assert code == 1
    assert "unstable reading refused" in err and "slow movement" in err
    assert not out.exists()


def test_unavailable_scale_is_reported(tmp_path: Path, capsys) -> None:
    code = main(
        ["calibrate", "--port", str(tmp_path / "none"), "--mass", "1000", "--yes", "--out", str(tmp_path / "c")]
    )
    assert code == 2 and "gave no readings" in capsys.readouterr().err


class Load:
    """The fake MCU's counts: a load in grams, a swing, noise; changed by the test between prompts."""

    def __init__(self) -> None:
        self.grams = 0.0
        self.swing_g = 0.0

    def counts(self, seq: int) -> int:
        noise = random.Random(seq).gauss(0.0, 0.3)
        swing = self.swing_g * math.sin(2 * math.pi * 1.5 * seq / SPS)
        return round(OFFSET + COUNTS_PER_GRAM * (self.grams + swing + noise))


class ScriptedIo:
    def __init__(self, answers: list[Callable[[str], str]]) -> None:
        self.answers = answers
        self.said: list[str] = []
        self.prompts: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)(prompt)


def test_guided_calibration_with_refusals_and_corners(tmp_path: Path) -> None:
    load_ = Load()
    load_.swing_g = 15.0  # the technician still leans on the basket

    def set_load(grams: float, swing_g: float = 0.0, answer: str = "") -> Callable[[str], str]:
        def act(prompt: str) -> str:
            load_.grams, load_.swing_g = grams, swing_g
            return answer

        return act

    io = ScriptedIo(
        [
            set_load(0.0, 15.0),  # Enter while the basket swings: refused
            set_load(0.0),  # still: tare taken
            set_load(0.0),  # "place 1000 g" but nothing placed: no load seen
            set_load(1000.0),
            set_load(1000.0),  # corner 1
            set_load(1003.0),  # corner 2 reads 3 g heavy
            set_load(999.0),
            set_load(1000.0),
        ]
    )
    with PtyFakeMcu(tmp_path / "tty", FakeMcu(load_.counts)) as fake:
        reader = RawReader.open(str(fake.link_path))
        settings = Settings(masses_g=(1000.0,), corners=4, tare_s=1.0, reading_s=1.0, capacity_g=30000.0)
        try:
            result = Calibrator(reader, io, settings).run()
        finally:
            reader.close()
    assert any("unstable reading refused" in s for s in io.said)
    assert any("no load seen" in s for s in io.said)
    assert result.calibration.counts_per_gram == pytest.approx(COUNTS_PER_GRAM, rel=0.003)
    corners = {c.what: c.error_g for c in result.checks}
    assert corners["corner 2"] == pytest.approx(3.0, abs=0.3)
    assert corners["corner 1"] == pytest.approx(0.0, abs=0.3)
    assert result.legal.e_g == 5.0
    verdicts = {check.what: within for check, _, within in result.legal.checks}
    assert verdicts["corner 2"] is False and verdicts["corner 1"] is True  # 3 g > MPE 2.5 g at 1 kg


def test_guided_quit_writes_nothing(tmp_path: Path) -> None:
    with PtyFakeMcu(tmp_path / "tty", FakeMcu(Load().counts)) as fake:
        reader = RawReader.open(str(fake.link_path))
        try:
            with pytest.raises(CalibrationAborted, match="nothing written"):
                Calibrator(reader, ScriptedIo([lambda p: "q"]), Settings(masses_g=(1000.0,))).run()
        finally:
            reader.close()
