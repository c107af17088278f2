"""The cart's self-test (`cartctl selftest`): one check per part, each a function returning a
`CheckResult` (ok, fail or skip, a one-line detail, figures for scripts).

- camera: frames from the camera must read the test card's code (testcard.py);
- scale: noise and drift over a period, against the build's division e (OIML: 0.5 e is the
  smallest permissible error, so the averaged reading's 3 sigma and the drift must stay within it);
- model: the configured verifier loads (firmware.verifiers);
- store: the store answers HTTP within a short timeout;
- storage: cartd's state folder (journal, weight book) can be written and synced, with room to spare;
- clock: the wall clock is not before this software was installed, and agrees with the store's.
"""

from __future__ import annotations

import email.utils
import math
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from firmware.scale.calibration import Calibration
from firmware.tech.settle import RawReader, ScaleUnavailable
from firmware.tech.testcard import TEST_CARD_CODE

OK, FAIL, SKIP = "ok", "FAIL", "skip"
MAX_CLOCK_SKEW_S = 300.0
# the journal's retention keeps it near 300 MB (100 sessions' samples at 0.15 MB a minute of shopping)
MIN_FREE_MB = 512.0


@dataclass
class CheckResult:
    name: str
    status: str
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.status:<4} {self.name:<7} {self.detail}"


# --- camera -------------------------------------------------------------------------------------


def check_camera(
    capture: Any, code: str = TEST_CARD_CODE, frames: int = 10, timeout_s: float = 5.0, reader: Any = None
) -> CheckResult:
    """Reads up to `frames` frames from a capture device (cv2.VideoCapture-like); ok once one
    frame reads `code`."""
    from firmware.camera.reader import BarcodeReader

    reader = reader or BarcodeReader()
    deadline = time.monotonic() + timeout_s
    got, other, read_ms = 0, set(), []
    try:
        if not capture.isOpened():
            return CheckResult("camera", FAIL, "the camera did not open")
        while got < frames and time.monotonic() < deadline:
            ok, image = capture.read()
            if not ok or image is None:
                time.sleep(0.05)
                continue
            got += 1
            result = reader.read(image)
            read_ms.append(result.ms)
            if result.code == code:
                detail = f"read the test card {code} in frame {got} ({result.ms:.0f} ms)"
                return CheckResult("camera", OK, detail, {"frames": got, "ms": round(result.ms, 1)})
            if result.code:
                other.add(result.code)
    finally:
        capture.release()
    if not got:
        return CheckResult("camera", FAIL, f"no frames in {timeout_s:g} s", {"frames": 0})
    seen = f"; read {', '.join(sorted(other))} instead" if other else ""
    return CheckResult("camera", FAIL, f"test card {code} not read in {got} frames{seen}", {"frames": got})


# --- scale --------------------------------------------------------------------------------------


def scale_figures(counts: list[float], calibration: Calibration, sps: float, indication_s: float = 0.5) -> dict:
    """Noise (robust: from the median absolute sample-to-sample difference, so a bump does not
    count as noise) and drift (median of the last fifth minus the first fifth), in grams."""
    grams = np.asarray([calibration.grams(c) for c in counts], dtype=float)
    diffs = np.diff(grams)
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    noise_g = 1.4826 * mad / math.sqrt(2.0)
    fifth = max(1, len(grams) // 5)
    drift_g = float(np.median(grams[-fifth:]) - np.median(grams[:fifth]))
    per_reading = max(1, round(indication_s * sps))
    return {
        "samples": len(grams),
        "mean_g": round(float(np.mean(grams)), 3),
        "noise_g": round(noise_g, 4),
        "indicated_sigma_g": round(noise_g / math.sqrt(per_reading), 4),
        "drift_g": round(drift_g, 3),
    }


def check_scale(
    reader: RawReader,
    calibration: Calibration,
    seconds: float,
    division_g: float,
    clock: Callable[[], float] = time.monotonic,
) -> CheckResult:
    counts: list[float] = []
    start = clock()
    try:
        while clock() - start < seconds:
            counts.extend(reader.read(0.1))
    except ScaleUnavailable as exc:
        return CheckResult("scale", FAIL, str(exc))
    finally:
        stats = reader.source.stats()
        reader.close()
    expected = seconds * reader.sps
    if len(counts) < 10:
        return CheckResult("scale", FAIL, f"only {len(counts)} samples in {seconds:g} s")
    figures = scale_figures(counts, calibration, reader.sps)
    figures.update(gaps=stats.get("gaps", 0), crc_errors=stats.get("crc_errors", 0))
    problems = []
    if len(counts) < 0.9 * expected - reader.sps:  # a second's slack for the connection
        problems.append(f"{len(counts)} of about {expected:.0f} samples arrived")
    limit = 0.5 * division_g
    if 3 * figures["indicated_sigma_g"] > limit:
        problems.append(f"noise 3 sigma {3 * figures['indicated_sigma_g']:.2f} g > 0.5e = {limit:g} g")
    if abs(figures["drift_g"]) > limit:
        problems.append(f"drift {figures['drift_g']:+.2f} g over {seconds:g} s > 0.5e = {limit:g} g")
    detail = (
        f"noise {figures['noise_g']:.2f} g/sample ({figures['indicated_sigma_g']:.3f} g averaged), "
        f"drift {figures['drift_g']:+.2f} g over {seconds:g} s, {figures['samples']} samples, "
        f"{figures['gaps']} gaps, {figures['crc_errors']} CRC errors (e = {division_g:g} g)"
    )
    if problems:
        return CheckResult("scale", FAIL, "; ".join(problems) + f" [{detail}]", figures)
    return CheckResult("scale", OK, detail, figures)


# --- model, store, clock ------------------------------------------------------------------------


def check_model(name: str) -> CheckResult:
    from firmware.verifiers import make_verifier

    start = time.perf_counter()
    try:
        verifier = make_verifier(name)
    except Exception as exc:  # a model that fails to load may raise anything; report it, do not crash
        return CheckResult("model", FAIL, f"verifier {name!r} did not load: {type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - start) * 1000.0
    return CheckResult("model", OK, f"verifier {name!r} loaded ({type(verifier).__name__}, {ms:.0f} ms)", {"ms": ms})


def fetch(url: str, timeout_s: float) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers={"User-Agent": "cartctl-selftest"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {})


def check_store(url: str, timeout_s: float = 3.0) -> tuple[CheckResult, float | None]:
    """GET {url}/healthz; returns the result and the store's clock (Date header), if any."""
    if not url.startswith(("http://", "https://")):
        return CheckResult("store", FAIL, f"store URL {url!r} is not http(s)"), None
    target = url.rstrip("/") + "/healthz"
    start = time.monotonic()
    try:
        status, headers = fetch(target, timeout_s)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return CheckResult("store", FAIL, f"{target} unreachable: {reason}"), None
    ms = (time.monotonic() - start) * 1000.0
    store_time = None
    if "Date" in headers:
        try:
            store_time = email.utils.parsedate_to_datetime(headers["Date"]).timestamp()
        except (TypeError, ValueError):
            store_time = None
    figures = {"status": status, "ms": round(ms, 1)}
    if status != 200:
        return CheckResult("store", FAIL, f"{target} answered HTTP {status} ({ms:.0f} ms)", figures), store_time
    return CheckResult("store", OK, f"{target} answered in {ms:.0f} ms", figures), store_time


def check_storage(state_dir: Path, min_free_mb: float = MIN_FREE_MB) -> CheckResult:
    """A file written and fsynced in cartd's state folder, and the room left there: an SD card gone
    read-only (ext4 does that after an error) or full fails, before a shopper meets it."""
    if not state_dir.is_dir():
        return CheckResult("storage", SKIP, f"{state_dir} does not exist (cartd has not run here)")
    try:
        fd, probe = tempfile.mkstemp(dir=state_dir, prefix=".selftest-")
        try:
            os.write(fd, b"cartctl selftest\n")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        return CheckResult("storage", FAIL, f"cannot write to {state_dir}: {exc.strerror or exc}")
    free_mb = shutil.disk_usage(state_dir).free / 1e6
    used = {
        name: sum(p.stat().st_size for p in state_dir.glob(f"{name}*") if p.is_file()) / 1e6
        for name in ("journal.db", "weights.db")
    }
    figures = {"free_mb": round(free_mb, 1), **{f"{k.split('.')[0]}_mb": round(v, 1) for k, v in used.items()}}
    detail = (
        f"{free_mb:.0f} MB free in {state_dir}; journal {used['journal.db']:.1f} MB, book {used['weights.db']:.1f} MB"
    )
    if free_mb < min_free_mb:
        return CheckResult("storage", FAIL, f"{detail} (< {min_free_mb:.0f} MB)", figures)
    return CheckResult("storage", OK, detail, figures)


def install_time(package_dir: Path | None = None) -> float:
    """The newest modification time among this software's files: the clock cannot be earlier."""
    root = package_dir or Path(__file__).resolve().parents[1]
    return max(p.stat().st_mtime for p in root.rglob("*.py"))


def check_clock(
    now: float | None = None, floor_unix: float | None = None, store_time: float | None = None
) -> CheckResult:
    now = time.time() if now is None else now
    floor_unix = install_time() if floor_unix is None else floor_unix
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
    if now < floor_unix:
        installed = time.strftime("%Y-%m-%d", time.gmtime(floor_unix))
        return CheckResult("clock", FAIL, f"{stamp} is before this software was installed ({installed}): no NTP yet?")
    if now > 4102444800:  # 2100-01-01
        return CheckResult("clock", FAIL, f"{stamp} is implausibly far ahead")
    if store_time is not None:
        skew = now - store_time
        if abs(skew) > MAX_CLOCK_SKEW_S:
            return CheckResult("clock", FAIL, f"{stamp}, {skew:+.0f} s off the store's clock", {"skew_s": skew})
        return CheckResult("clock", OK, f"{stamp}, {skew:+.0f} s from the store's clock", {"skew_s": skew})
    return CheckResult("clock", OK, f"{stamp} (no store clock to compare)")


def summary(results: list[CheckResult]) -> tuple[int, str]:
    """Exit code (0: nothing failed) and a closing line."""
    counts = {s: sum(r.status == s for r in results) for s in (OK, FAIL, SKIP)}
    failed = [r.name for r in results if r.status == FAIL]
    text = f"{counts[OK]} ok, {counts[FAIL]} failed, {counts[SKIP]} skipped"
    return (1 if failed else 0), text + (f" ({', '.join(failed)})" if failed else "")
