"""Weight events: turns the scale's stream of grams (80 samples/s) into settled weight changes.

The basket is *still* when the spread of the last `window_s` of samples is within a few times the
scale's own noise; it then reports the level change since the last still level. While still,
the level estimate keeps refining (a long average) and follows slow creep and drift, so only real
steps are reported. Ringing after a drop, a hand pressing an item, and the shaking of a pushed cart
all keep the spread high, so nothing is reported until they are over.

Auto-zero happens only when the cart core says the basket should be empty and it is still near
zero. A gap in the samples is a scale fault; the first still level after it is compared with the
last one before it, so what happened during the fault is still reported (flagged).

Pure: time comes with each sample. No I/O.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from firmware.core.events import ScaleFaulted, ScaleMotion, ScaleRestored, WeightSettled

WeighingOutput = WeightSettled | ScaleMotion | ScaleFaulted | ScaleRestored


@dataclass(frozen=True, slots=True)
class WeighingConfig:
    window_s: float = 0.4  # still means still for this long (report within 0.5 s of stillness)
    noise_floor_g: float = 1.0  # first guess of the scale's sample noise, until it is measured
    noise_memory_s: float = 120.0  # the noise floor is a low percentile of window spreads this far back
    noise_percentile: float = 0.1  # (a cart is pushed most of the time; still moments are the quiet tail)
    still_k: float = 2.0  # window spread must be <= still_k x noise floor (a resting hand is not still)
    still_min_sd_g: float = 0.8  # ... never needs to be below this ...
    still_max_sd_g: float = 5.0  # ... and is never above this: a still basket has only the chip's noise
    detect_min_g: float = 5.0  # smallest step reported (a 15 g pack of gum must register)
    detect_k: float = 4.0  # ... or this many times the window's own spread, if larger
    auto_zero_band_g: float = 30.0
    auto_zero_after_s: float = 2.0
    fault_gap_s: float = 1.0  # samples missing this long: the scale is faulted (a busy host may lag 0.5 s)
    rise_smooth_s: float = 0.1  # the rise while moving is read on samples smoothed this long (tremor out)


@dataclass(slots=True)
class WeighingStats:
    samples: int = 0
    changes: int = 0
    auto_zeros: int = 0
    faults: int = 0


class Weighing:
    def __init__(self, config: WeighingConfig | None = None) -> None:
        self.config = config or WeighingConfig()
        self.stats = WeighingStats()
        self.noise_floor_g = self.config.noise_floor_g
        self.expect_empty = True
        self._window: deque[float] = deque()
        self._win_n = 0
        self._sum = 0.0
        self._sumsq = 0.0
        self._pushes_since_exact = 0
        self._last_t: float | None = None
        self._zero_g: float | None = None  # raw grams that read as an empty basket
        self._base_g: float | None = None  # raw grams of the last still level
        self._still = False
        self._still_since = 0.0
        self._moving_since: float | None = None
        self._still_sum = 0.0  # refined still level (grams, raw)
        self._still_n = 0
        self._faulted = False
        self._across_fault = False
        self._spreads: deque[float] = deque()
        self._since_spread = 0
        self._fast: float | None = None  # samples smoothed over `rise_smooth_s`
        self._before_g: float | None = None  # the still level when the basket began to move
        self._rise_g = 0.0  # highest smoothed reading above `_before_g` since

    # -- public ----------------------------------------------------------------------------------

    @property
    def level_g(self) -> float | None:
        """Settled basket load in grams above zero, or None before the first still moment."""
        if self._base_g is None or self._zero_g is None:
            return None
        return self._base_g - self._zero_g

    @property
    def is_still(self) -> bool:
        return self._still and not self._faulted

    def snapshot(self) -> dict[str, float | None]:
        """What a restart needs to compare the basket with how it was left."""
        return {"base_g": self._base_g, "zero_g": self._zero_g, "noise_floor_g": self.noise_floor_g}

    def restore_snapshot(self, snapshot: dict[str, float | None]) -> None:
        self._base_g = snapshot.get("base_g")
        self._zero_g = snapshot.get("zero_g")
        self.noise_floor_g = snapshot.get("noise_floor_g") or self.config.noise_floor_g
        self._across_fault = True
        self._reset_window()

    def fault(self, t: float, reason: str) -> ScaleFaulted | None:
        """The link reports the scale lost; samples restart later."""
        if self._faulted:
            return None
        self._faulted = True
        self._across_fault = True
        self.stats.faults += 1
        self._reset_window()
        return ScaleFaulted(t, reason)

    def restore(self, t: float) -> ScaleRestored | None:
        if not self._faulted:
            return None
        self._faulted = False
        self._last_t = None
        return ScaleRestored(t)

    def push(self, t: float, value_g: float, sps: float) -> list[WeighingOutput]:
        out: list[WeighingOutput] = []
        gap = self.config.fault_gap_s
        if self._last_t is not None and t - self._last_t > max(gap, 3.0 / sps) and not self._faulted:
            fault = self.fault(self._last_t, f"no samples for {t - self._last_t:.2f} s")
            if fault:
                out.append(fault)
        if self._faulted:
            restored = self.restore(t)
            if restored:
                out.append(restored)
        self._last_t = t
        self.stats.samples += 1
        n = max(8, round(self.config.window_s * sps))
        self._add(value_g, n)
        alpha = min(1.0, 1.0 / max(1.0, self.config.rise_smooth_s * sps))
        self._fast = value_g if self._fast is None else self._fast + alpha * (value_g - self._fast)
        if self._before_g is not None:
            self._rise_g = max(self._rise_g, self._fast - self._before_g)
        if self._win_n < n:
            return out
        mean = self._sum / self._win_n
        sd = math.sqrt(max(0.0, self._sumsq / self._win_n - mean * mean))
        cfg = self.config
        threshold = min(cfg.still_max_sd_g, max(cfg.still_min_sd_g, cfg.still_k * self.noise_floor_g))
        self._since_spread += 1
        if self._since_spread >= n:  # one spread per non-overlapping window feeds the noise floor
            self._since_spread = 0
            self._learn_noise(sd, n, sps)
        if sd <= threshold:
            change = self._on_still(t, mean, sd)
            if change:
                out.append(change)
        else:
            if self._still:
                self._moving_since = t
                self._before_g, self._rise_g = self._still_sum, 0.0
                out.append(ScaleMotion(t, moving=True))
            self._still = False
        return out

    # -- internals -------------------------------------------------------------------------------

    def _add(self, value: float, n: int) -> None:
        window = self._window
        window.append(value)
        self._sum += value
        self._sumsq += value * value
        self._win_n += 1
        while self._win_n > n:
            old = window.popleft()
            self._sum -= old
            self._sumsq -= old * old
            self._win_n -= 1
        self._pushes_since_exact += 1
        if self._pushes_since_exact >= 4 * n:  # wipe accumulated rounding error
            self._sum = math.fsum(window)
            self._sumsq = math.fsum(v * v for v in window)
            self._pushes_since_exact = 0

    def _reset_window(self) -> None:
        self._window.clear()
        self._win_n = 0
        self._sum = self._sumsq = 0.0
        self._still = False
        self._moving_since = None
        self._fast = self._before_g = None
        self._rise_g = 0.0

    def _on_still(self, t: float, mean: float, sd: float) -> WeightSettled | ScaleMotion | None:
        """`_base_g` is the level the core was last told; nothing moves it silently but auto-zero."""
        cfg = self.config
        detect = max(cfg.detect_min_g, cfg.detect_k * sd)
        if self._base_g is None:  # first still moment of the session: the empty basket
            self._base_g = self._zero_g = mean
            self._begin_still(t, mean)
            return None
        if not self._still:
            settle_s = t - self._moving_since if self._moving_since is not None else 0.0
            self._begin_still(t, mean)
            if abs(mean - self._base_g) >= detect:
                return self._report(t, mean, sd, settle_s)
            return ScaleMotion(t, moving=False)
        self._still_n += 1
        # running mean at first, then an exponential average of ~8 windows that follows creep
        alpha = max(1.0 / self._still_n, 1.0 / (8 * self._win_n))
        self._still_sum += alpha * (mean - self._still_sum)
        refined = self._still_sum
        if abs(mean - refined) >= detect:  # a step while the spread stayed low
            self._begin_still(t, mean)
            if abs(mean - self._base_g) >= detect:
                return self._report(t, mean, sd, 0.0)
            return None
        if abs(refined - self._base_g) >= detect:  # crept or slid slowly this far: the core must know
            return self._report(t, refined, sd, 0.0)
        still_for = t - self._still_since
        if (
            self.expect_empty
            and still_for >= cfg.auto_zero_after_s
            and self._zero_g is not None
            and abs(refined - self._zero_g) <= cfg.auto_zero_band_g
            and refined != self._zero_g
        ):
            self._zero_g = self._base_g = refined
            self.stats.auto_zeros += 1
        return None

    def _learn_noise(self, sd: float, n: int, sps: float) -> None:
        """The scale's own noise: a low percentile of recent window spreads (still moments are the
        quiet ones; pushing and hands only add spread), so it needs no stillness to be learned."""
        spreads = self._spreads
        spreads.append(sd)
        keep = max(8, round(self.config.noise_memory_s * sps / n))
        while len(spreads) > keep:
            spreads.popleft()
        if len(spreads) >= 8:
            ranked = sorted(spreads)
            self.noise_floor_g = max(0.05, ranked[int(self.config.noise_percentile * (len(ranked) - 1))])

    def _begin_still(self, t: float, mean: float) -> None:
        self._still = True
        self._still_since = t
        self._still_sum = mean
        self._still_n = 1

    def _report(self, t: float, mean: float, sd: float, settle_s: float) -> WeightSettled:
        assert self._base_g is not None and self._zero_g is not None
        delta = mean - self._base_g
        self._base_g = mean
        self.stats.changes += 1
        extra = {"across_fault": True} if self._across_fault else {}
        self._across_fault = False
        rise = round(max(0.0, self._rise_g), 2) if settle_s > 0.0 else 0.0
        self._before_g, self._rise_g = None, 0.0
        level = round(mean - self._zero_g, 2)
        return WeightSettled(t, round(delta, 2), level, round(sd, 3), round(settle_s, 3), extra, rise)
