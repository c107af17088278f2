"""Small synthetic load-cell signals for unit tests of the weighing stage (not the benchmark's world model)."""

from __future__ import annotations

import numpy as np

SPS = 80


class Signal:
    def __init__(self, seed: int = 1, noise_g: float = 1.0, start_g: float = 0.0) -> None:
        self.rng = np.random.default_rng(seed)
        self.noise_g = noise_g
        self.level = start_g
        self.parts: list[np.ndarray] = []

    @property
    def t(self) -> float:
        return sum(len(p) for p in self.parts) / SPS

    def _n(self, seconds: float) -> int:
        return round(seconds * SPS)

    def hold(self, seconds: float) -> Signal:
        n = self._n(seconds)
        self.parts.append(self.level + self.rng.normal(0, self.noise_g, n))
        return self

    def drop(self, grams: float, ring_g: float, tau_s: float = 0.25, hz: float = 7.0, seconds: float = 3.0) -> Signal:
        n = self._n(seconds)
        tt = np.arange(n) / SPS
        self.level += grams
        ring = ring_g * np.exp(-tt / tau_s) * np.sin(2 * np.pi * hz * tt)
        self.parts.append(self.level + ring + self.rng.normal(0, self.noise_g, n))
        return self

    def press(self, extra_g: float, tremor_g: float, seconds: float, release_s: float = 0.3) -> Signal:
        n, r = self._n(seconds), self._n(release_s)
        tremor = self.rng.normal(0, tremor_g, n + r)
        force = np.concatenate([np.full(n, extra_g), np.linspace(extra_g, 0, r)])
        self.parts.append(self.level + force + tremor + self.rng.normal(0, self.noise_g, n + r))
        return self

    def lift(self, grams: float, grip_g: float, grip_s: float = 0.3, lift_s: float = 0.4) -> Signal:
        """An item taken out: the hand grips it (pressing `grip_g`), then lifts it away."""
        g, lift = self._n(grip_s), self._n(lift_s)
        shape = np.concatenate([np.full(g, grip_g), np.linspace(grip_g, -grams, lift)])
        self.parts.append(self.level + shape + self.rng.normal(0, self.noise_g, g + lift))
        self.level -= grams
        return self

    def push(self, seconds: float, shake_g: float = 60.0, bumps: int = 3) -> Signal:
        n = self._n(seconds)
        shake = self.rng.normal(0, shake_g, n)
        for at in self.rng.integers(0, n, bumps):
            shake[at : at + 8] += self.rng.choice([-1, 1]) * 600
        self.parts.append(self.level + shake)
        return self

    def ramp(self, grams: float, seconds: float) -> Signal:
        n = self._n(seconds)
        self.parts.append(self.level + np.linspace(0, grams, n) + self.rng.normal(0, self.noise_g, n))
        self.level += grams
        return self

    def samples(self) -> np.ndarray:
        return np.concatenate(self.parts)


def run(weighing, values: np.ndarray, t0: float = 0.0) -> list:
    out = []
    for i, v in enumerate(values):
        out.extend(weighing.push(t0 + i / SPS, float(v), SPS))
    return out
