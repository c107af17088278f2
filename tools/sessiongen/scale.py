"""Physical model of a cart's basket scale: what the load cells and the HX711 read, sample by sample.

The shopper model produces a timeline of physical actions (items placed, lifted out, shifting; the
cart pushed). `render_counts` turns it into raw 24-bit ADC readings at `sps` samples per second:
the static load (each item with its own eccentric-load error), the hand on the item as it is let go
(with physiological tremor), the basket ringing after a drop or bump, vibration and bumps while the
cart is pushed, load-cell creep, zero drift with temperature, span and linearity errors, converter
noise and the occasional corrupted reading. Parameter choices are explained in WORLD.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ADC_MIN, ADC_MAX = -(2**23), 2**23 - 1
HX711_LSB_NV = 4200.0 / 128 / 2**23 * 1e6 * 0.5  # 0.5*AVDD/gain over 2^23 counts, nV per count (AVDD 4.2 V)


@dataclass(frozen=True, slots=True)
class HandRest:
    """The shopper's hand still on the item after letting it go: extra force, tremor, release."""

    force_g: float
    hold_s: float
    release_s: float


@dataclass(frozen=True, slots=True)
class Place:
    """Units go in: weight transferred from the hand over `transfer_s`; `ring` scales the ringing."""

    t: float
    item_id: int
    mass_g: float
    transfer_s: float
    ring: float
    hand: HandRest | None = None


@dataclass(frozen=True, slots=True)
class Lift:
    """Units come out: the hand grips (pressing `grip_g`) then lifts over `lift_s`."""

    t: float
    item_id: int
    mass_g: float  # the part of the item's mass that leaves (a unit out of a group placed together)
    grip_g: float
    grip_s: float
    lift_s: float
    ring: float


@dataclass(frozen=True, slots=True)
class Push:
    """The cart is pushed from t0 to t1; `intensity` scales the floor's vibration for this stretch."""

    t0: float
    t1: float
    intensity: float
    threshold_bump: bool = False  # a door threshold or kerb on this stretch


@dataclass(frozen=True, slots=True)
class Shift:
    """An item already in the basket slides or tips over (new eccentric position, small knock)."""

    t: float
    item_id: int
    ring: float


Action = Place | Lift | Push | Shift


@dataclass(frozen=True, slots=True)
class ScaleParams:
    """One cart's scale, as built and calibrated, and the floor it is pushed over."""

    sps: float
    noise_sd_g: float  # converter + bridge noise per sample
    counts_per_gram: float  # calibrated sensitivity
    offset_counts: int  # calibrated zero (empty basket) in counts
    zero_error_g: float  # this session's zero versus the calibration (drift since)
    span_error: float  # relative error of the calibration's slope
    nonlinearity_g: float  # maximum bow of the load cells at mid-capacity
    capacity_g: float
    dead_mass_g: float  # basket mass resting on the cells (moves with the vibration)
    corner_sd: float  # relative eccentric-load error per item position
    creep: float  # creep as a fraction of a load step, reached with time constant creep_tau_s
    creep_tau_s: float
    warmup_g: float  # temperature warm-up of the zero, reached with warmup_tau_s
    warmup_tau_s: float
    walk_g_per_sqrt_min: float  # slow random-walk zero drift
    ring_f0_hz: float  # basket's first mode with the basket empty
    ring_zeta: float
    vib_rms: float  # vertical acceleration while pushed, as a fraction of gravity (after the ADC's averaging)
    vib_f_hz: float  # cart frame/caster resonance
    tile_m: float  # floor tile size: joint bumps every tile_m / speed seconds
    big_bump_per_s: float  # thresholds, drains, knocks while pushing
    glitch_p: float  # chance a sample is a corrupted read
    extra: dict = field(default_factory=dict)


def draw_scale_params(rng: np.random.Generator, sps: float = 80.0) -> ScaleParams:
    """Draw one plausible cart (see WORLD.md for the ranges and why)."""
    sens_nv_per_g = float(np.exp(rng.uniform(np.log(60.0), np.log(210.0))))  # bridge output, nV per gram
    noise_nv = 90.0 * rng.uniform(1.0, 1.6)  # HX711 at 80 SPS: 90 nV rms input noise, plus wiring
    k = sens_nv_per_g / HX711_LSB_NV
    dead = float(rng.uniform(2500, 6000))
    offset = int(rng.normal(0, 150_000) + dead * k)
    return ScaleParams(
        sps=sps,
        noise_sd_g=float(noise_nv / sens_nv_per_g * np.sqrt(sps / 80.0)),
        counts_per_gram=round(k, 4),
        offset_counts=offset,
        zero_error_g=float(rng.normal(0, 2.0)),
        span_error=float(rng.normal(0, 0.002)),
        nonlinearity_g=float(rng.uniform(0, 0.0003) * 60_000),
        capacity_g=60_000.0,
        dead_mass_g=dead,
        corner_sd=float(rng.uniform(0.0005, 0.003)),
        creep=float(rng.uniform(0.0002, 0.001)),
        creep_tau_s=float(rng.uniform(60, 600)),
        warmup_g=float(rng.normal(0, 3.0)),
        warmup_tau_s=float(rng.uniform(300, 1500)),
        walk_g_per_sqrt_min=float(rng.uniform(0.1, 0.6)),
        ring_f0_hz=float(rng.uniform(5, 12)),
        ring_zeta=float(rng.uniform(0.03, 0.12)),
        vib_rms=float(rng.uniform(0.03, 0.12)),
        vib_f_hz=float(rng.uniform(4, 12)),
        tile_m=float(rng.choice([0.3, 0.33, 0.45, 0.6])),
        big_bump_per_s=float(rng.uniform(0.01, 0.05)),
        glitch_p=float(np.exp(rng.uniform(np.log(1e-6), np.log(1e-4)))),
    )


class _Signal:
    """Accumulates force contributions (grams) on the sample grid."""

    def __init__(self, n: int, sps: float):
        self.n, self.sps = n, sps
        self.t = np.arange(n) / sps
        self.static = np.zeros(n)
        self.tail = np.zeros(n + 1)  # step increments, cumulated at the end
        self.dynamic = np.zeros(n)
        self.steps: list[tuple[int, float]] = []

    def index(self, t: float) -> int:
        return int(min(max(np.ceil(t * self.sps - 1e-9), 0), self.n))

    def ramp(self, t: float, dur: float, amount: float) -> None:
        """A smooth (raised-cosine) change of the static load by `amount` from t over dur."""
        i0, i1 = self.index(t), self.index(t + max(dur, 0.0))
        if i1 > i0:
            x = (self.t[i0:i1] - t) / max(dur, 1e-9)
            self.static[i0:i1] += amount * 0.5 * (1 - np.cos(np.pi * np.clip(x, 0, 1)))
        self.tail[i1] += amount
        self.steps.append((i0, amount))

    def ring(self, t: float, amp: float, f_hz: float, zeta: float, floor_g: float = 0.05) -> None:
        """A damped oscillation starting at t (impulse response of the basket's mode)."""
        if amp <= floor_g or f_hz <= 0:
            return
        w = 2 * np.pi * f_hz
        dur = min(8.0, np.log(amp / floor_g) / (zeta * w))
        i0, i1 = self.index(t), self.index(t + dur)
        if i1 <= i0:
            return
        tt = self.t[i0:i1] - t
        wd = w * np.sqrt(max(1 - zeta**2, 1e-6))
        self.dynamic[i0:i1] += amp * np.exp(-zeta * w * tt) * np.sin(wd * tt)

    def load(self) -> np.ndarray:
        return self.static + np.cumsum(self.tail)[: self.n]


def render_grams(
    params: ScaleParams, actions: list[Action], duration_s: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The force on the cells (grams, before the converter) and the static contents load, per sample."""
    n = int(np.floor(duration_s * params.sps)) + 1
    sig = _Signal(n, params.sps)
    eps: dict[int, float] = {}
    placed: list[tuple[float, float]] = []  # (t, contents change) to know the load at any moment

    def contents_at(t: float) -> float:
        return sum(dm for tt, dm in placed if tt <= t)

    def mode(t: float) -> tuple[float, float]:
        m = contents_at(t)
        f = params.ring_f0_hz * np.sqrt(params.dead_mass_g / (params.dead_mass_g + m))
        return float(f), params.ring_zeta * (1 + m / 8000.0)

    for a in sorted((a for a in actions if not isinstance(a, Push)), key=lambda a: a.t):
        if isinstance(a, Place):
            e = eps.setdefault(a.item_id, float(rng.normal(0, params.corner_sd)))
            reading = a.mass_g * (1 + e)
            sig.ramp(a.t, a.transfer_s, reading)
            _tremor(sig, a.t, a.transfer_s, 0.02 * a.mass_g, rng)
            end = a.t + a.transfer_s
            placed.append((end, a.mass_g))
            f, z = mode(end)
            sig.ring(end, a.mass_g * a.ring, f, z)
            sig.ring(end, 0.3 * a.mass_g * a.ring, float(rng.uniform(15, 35)), 0.1)
            if a.hand is not None:
                _hand(sig, end, a.hand, rng)
        elif isinstance(a, Lift):
            e = eps.get(a.item_id, 0.0)
            _hand(sig, a.t, HandRest(a.grip_g, a.grip_s, 0.05), rng)
            start = a.t + a.grip_s
            sig.ramp(start, a.lift_s, -a.mass_g * (1 + e))
            _tremor(sig, start, a.lift_s, 0.02 * a.mass_g, rng)
            placed.append((start + a.lift_s, -a.mass_g))
            f, z = mode(start + a.lift_s)
            sig.ring(start + a.lift_s, a.mass_g * a.ring, f, z)
        elif isinstance(a, Shift):
            if a.item_id not in eps:
                continue
            old = eps[a.item_id]
            eps[a.item_id] = float(rng.normal(0, params.corner_sd))
            m = _item_mass(actions, a.item_id, a.t)
            sig.ramp(a.t, 0.1, m * (eps[a.item_id] - old))
            f, z = mode(a.t)
            sig.ring(a.t, m * a.ring, f, z)
    contents = sig.load()
    for a in actions:
        if isinstance(a, Push):
            _push(sig, a, params, contents, rng)
    force = contents + sig.dynamic + _creep(sig, params)
    return force, contents


def _item_mass(actions: list[Action], item_id: int, t: float) -> float:
    m = 0.0
    for a in actions:
        if isinstance(a, Place) and a.item_id == item_id and a.t <= t:
            m += a.mass_g
        elif isinstance(a, Lift) and a.item_id == item_id and a.t <= t:
            m -= a.mass_g
    return max(m, 0.0)


def _tremor(sig: _Signal, t: float, dur: float, amp: float, rng: np.random.Generator) -> None:
    """Physiological tremor (8-12 Hz) of a hand in contact, on [t, t + dur)."""
    i0, i1 = sig.index(t), sig.index(t + dur)
    if i1 <= i0 or amp <= 0:
        return
    tt = sig.t[i0:i1]
    f = rng.uniform(8, 12)
    sig.dynamic[i0:i1] += amp * np.sin(2 * np.pi * f * tt + rng.uniform(0, 2 * np.pi))


def _hand(sig: _Signal, t: float, hand: HandRest, rng: np.random.Generator) -> None:
    """A hand resting on (pressing) the item: force, tremor and slow sway, then released smoothly."""
    i0, i1 = sig.index(t), sig.index(t + hand.hold_s + hand.release_s)
    if i1 <= i0:
        return
    tt = sig.t[i0:i1] - t
    env = np.ones_like(tt)
    rel = tt > hand.hold_s
    env[rel] = 0.5 * (1 + np.cos(np.pi * np.clip((tt[rel] - hand.hold_s) / max(hand.release_s, 1e-6), 0, 1)))
    onset = np.clip(tt / 0.08, 0, 1)
    tremor = (hand.force_g * rng.uniform(0.01, 0.04) + rng.uniform(0.5, 2.0)) * np.sin(
        2 * np.pi * rng.uniform(8, 12) * tt + rng.uniform(0, 2 * np.pi)
    )
    sway = sum(
        hand.force_g
        * rng.uniform(0.01, 0.035)
        * np.sin(2 * np.pi * rng.uniform(0.5, 3) * tt + rng.uniform(0, 2 * np.pi))
        for _ in range(3)
    )
    sig.dynamic[i0:i1] += env * onset * (hand.force_g + tremor + sway)


def _resonance(n: int, sps: float, f0: float, q: float) -> np.ndarray:
    f = np.fft.rfftfreq(n, 1 / sps)
    r = f / f0
    return 1 / np.abs(1 - r**2 + 1j * r / q)


def _push(sig: _Signal, push: Push, params: ScaleParams, contents: np.ndarray, rng: np.random.Generator) -> None:
    """Vibration and bumps of a pushed cart: acceleration x (basket + contents mass)."""
    i0, i1 = sig.index(push.t0), sig.index(push.t1)
    n = i1 - i0
    if n < 4:
        return
    tt = sig.t[i0:i1] - push.t0
    env = np.clip(tt / 0.7, 0, 1) * np.clip((push.t1 - push.t0 - tt) / 0.7, 0, 1)  # start and stop
    spec = np.fft.rfft(rng.standard_normal(n)) * (_resonance(n, sig.sps, params.vib_f_hz, 2.5) + 0.25)
    vib = np.fft.irfft(spec, n)
    vib *= params.vib_rms * push.intensity / max(float(np.std(vib)), 1e-12)
    # Tile joints: one small jolt per tile; big bumps (thresholds, drains, knocks) now and then.
    impulses = np.zeros(n)
    speed = rng.uniform(0.7, 1.3)
    joint_t = np.arange(rng.uniform(0, 1) * params.tile_m / speed, tt[-1], params.tile_m / speed)
    joint_t += rng.normal(0, 0.02, size=joint_t.size)
    idx = np.clip((joint_t * sig.sps).astype(int), 0, n - 1)
    np.add.at(impulses, idx, rng.uniform(0.005, 0.03, size=idx.size) * push.intensity)
    n_big = rng.poisson(params.big_bump_per_s * (push.t1 - push.t0)) + int(push.threshold_bump)
    big = rng.integers(0, n, size=n_big)
    np.add.at(impulses, big, rng.lognormal(np.log(0.25), 0.5, size=n_big) * rng.choice([-1, 1], size=n_big))
    f_ring = params.ring_f0_hz * np.sqrt(params.dead_mass_g / (params.dead_mass_g + float(np.mean(contents[i0:i1]))))
    kernel_t = np.arange(int(3 * sig.sps)) / sig.sps
    w = 2 * np.pi * f_ring
    kernel = np.exp(-params.ring_zeta * 2 * w * kernel_t) * np.sin(w * kernel_t)
    jolts = np.convolve(impulses, kernel)[:n]
    accel = env * vib + jolts
    sig.dynamic[i0:i1] += accel * (params.dead_mass_g + contents[i0:i1])


def _creep(sig: _Signal, params: ScaleParams) -> np.ndarray:
    """Load-cell creep: each load step creeps by `creep` of itself (superposition; unloading recovers)."""
    out = np.zeros(sig.n)
    for i0, amount in sig.steps:
        if i0 < sig.n:
            out[i0:] += amount * params.creep * -np.expm1(-(sig.t[i0:] - sig.t[i0]) / params.creep_tau_s)
    return out


def measure_counts(params: ScaleParams, force_g: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What the HX711 reports for a force signal: calibration errors, drift, noise, glitches; int counts."""
    n = force_g.size
    t = np.arange(n) / params.sps
    x = (params.dead_mass_g + force_g) / params.capacity_g
    x0 = params.dead_mass_g / params.capacity_g
    bow = 4 * params.nonlinearity_g * (x * (1 - x) - x0 * (1 - x0))
    seconds = int(t[-1]) + 2
    walk = np.cumsum(rng.normal(0, params.walk_g_per_sqrt_min / np.sqrt(60), size=seconds))
    drift = params.warmup_g * -np.expm1(-t / params.warmup_tau_s) + np.interp(t, np.arange(seconds), walk)
    grams = force_g * (1 + params.span_error) + bow + params.zero_error_g + drift
    grams += rng.normal(0, params.noise_sd_g, size=n)
    counts = np.rint(params.offset_counts + grams * params.counts_per_gram)
    bad = np.flatnonzero(rng.random(n) < params.glitch_p)
    for i in bad:  # a bit slipped on the serial clock, or a read during conversion
        counts[i] = int(counts[i]) ^ (1 << int(rng.integers(16, 23))) if rng.random() < 0.6 else ADC_MAX
    return np.clip(counts, ADC_MIN, ADC_MAX).astype(np.int64)


def counts_to_grams(params: ScaleParams, counts: np.ndarray) -> np.ndarray:
    """Grams as a calibrated scale reports them: (counts - offset) / counts_per_gram."""
    return (counts - params.offset_counts) / params.counts_per_gram
