"""Benchmark of the scale link: throughput and CPU at 80 samples/s, and what 1 % corrupted bytes cost.

    python -m tools.bench_scale_link [--seconds 10] [--frames 36000] [--seeds 3]

Live part: the real MCU firmware runs in `cartctl scale emulate` (MicroPython unix port behind a
pty) and this process reads it through SerialScaleSource, as the cart does. CPU is this process's
(the Pi side) and the emulator's, per second of streaming. Offline part: the Pi parser and sequence
tracker over a long recorded stream, clean and with 1 % of bytes dropped or bit-flipped; every
sample carries a distinct value, so a wrong sample accepted cannot hide.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from firmware.core.events import ScaleSampled
from firmware.scale import protocol as p
from firmware.scale.calibration import Calibration
from firmware.scale.emulator import Corrupter, Emulator, counts_from_trace
from firmware.scale.source import SerialScaleSource

GRAMS = 612.0
OFFSET, CPG = 8000.0, 42.5


def _trace(folder: Path) -> Path:
    (folder / "catalog.csv").write_text("code,name,price_cents,weight_g\n")
    header = {"type": "header", "version": 1, "catalog": "catalog.csv"}
    header["scale"] = {"unit": "counts", "offset": OFFSET, "counts_per_gram": CPG}
    lines = [header]
    lines += [
        {"type": "scale", "t": k / 80, "sps": 80, "values": [OFFSET + CPG * GRAMS] * 80} for k in range(0, 800, 80)
    ]
    lines.append({"type": "end", "t": 10.0})
    path = folder / "trace.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def _proc_cpu_s(pid: int) -> float:
    """CPU seconds of a process and its live children (the bridge and the MicroPython firmware)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(_proc_cpu_s(int(child)) for child in children)


def live(seconds: float, corrupt: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / "ttyBENCH"
        cmd = [sys.executable, "-m", "firmware.cli.cartctl", "scale", "emulate", "--link", str(link)]
        cmd += ["--trace", str(_trace(Path(tmp))), "--corrupt", str(corrupt), "--seed", "11"]
        emu = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not link.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("emulator did not start")
                time.sleep(0.05)
            source = SerialScaleSource(str(link), Calibration(OFFSET, CPG))
            while source.samples == 0:
                source.poll(0.05)
            emu_cpu0, cpu0, t0 = _proc_cpu_s(emu.pid), time.process_time(), time.monotonic()
            s0, b0 = source.samples, source.link.bytes_in
            wrong = 0
            while time.monotonic() - t0 < seconds:
                for event in source.poll(0.05):
                    if isinstance(event, ScaleSampled):
                        wrong += sum(1 for g in event.values_g if abs(g - GRAMS) > 1e-6)
            elapsed = time.monotonic() - t0
            cpu = time.process_time() - cpu0
            emu_cpu = _proc_cpu_s(emu.pid) - emu_cpu0
            stats = source.stats()
            source.close()
        finally:
            emu.send_signal(signal.SIGTERM)
            emu.wait(timeout=10)
    received = stats["samples"] - s0
    return {
        "seconds": round(elapsed, 2),
        "samples_per_s": round(received / elapsed, 1),
        "bytes_per_s": round((stats["bytes_in"] - b0) / elapsed, 1),
        "pi_cpu_percent": round(100 * cpu / elapsed, 2),
        "emulator_cpu_percent": round(100 * emu_cpu / elapsed, 1),
        "recovered_share": round(received / (80 * elapsed), 4),
        "wrong_accepted": wrong,
        "crc_errors": stats["crc_errors"],
        "gaps": stats["gaps"],
    }


def live_corrupted(seconds: float, corrupt: float, seed: int) -> dict:
    """The emulator in this process (so the corruption injected can be counted), read as the cart does."""
    with tempfile.TemporaryDirectory() as tmp:
        counts, sps = counts_from_trace(_trace(Path(tmp)))
        emulator = Emulator(Path(tmp) / "ttyBENCH", counts, sps, corrupt_rate=corrupt, seed=seed)
        emulator.start()
        stop = threading.Event()
        bridge = threading.Thread(target=lambda: [emulator.step(0.05) for _ in iter(stop.is_set, True)])
        bridge.start()
        try:
            source = SerialScaleSource(str(emulator.link_path), Calibration(OFFSET, CPG))
            while source.samples == 0:
                source.poll(0.05)
            s0, t0, wrong = source.samples, time.monotonic(), 0
            c0 = emulator.corrupt_out.dropped + emulator.corrupt_out.flipped
            b0 = emulator.bytes_out + emulator.corrupt_out.dropped
            while time.monotonic() - t0 < seconds:
                for event in source.poll(0.05):
                    if isinstance(event, ScaleSampled):
                        wrong += sum(1 for g in event.values_g if abs(g - GRAMS) > 1e-6)
            elapsed = time.monotonic() - t0
            stats = source.stats()
            source.close()
            injected = emulator.corrupt_out.dropped + emulator.corrupt_out.flipped - c0
            sent_bytes = emulator.bytes_out + emulator.corrupt_out.dropped - b0
        finally:
            stop.set()
            bridge.join()
            emulator.close()
    received = stats["samples"] - s0
    return {
        "seconds": round(elapsed, 2),
        "samples_per_s": round(received / elapsed, 1),
        "recovered_share": round(received / (80 * elapsed), 4),
        "wrong_accepted": wrong,
        "crc_errors": stats["crc_errors"],
        "gaps": stats["gaps"],
        "corrupted_bytes": injected,
        "bytes": sent_bytes,
    }


def offline(frames: int, corrupt: float, seed: int) -> dict:
    rng = random.Random(seed)
    truth: list[int] = []
    chunks = []
    for i in range(frames):
        counts = [rng.randint(p.SAMPLE_MIN, p.SAMPLE_MAX) for _ in range(8)]
        truth.extend(counts)
        chunks.append(p.encode_samples(8 * i, counts))
    stream = Corrupter(corrupt, seed).apply(b"".join(chunks))
    cal = Calibration(0.0, 1.0)
    parser, tracker = p.FrameParser(), p.SequenceTracker()
    accepted = wrong = 0
    absolute = 0  # sequence numbers wrap at 65536: track the absolute index of expected
    t0 = time.process_time()
    messages: list[p.Message] = []
    for i in range(0, len(stream), 64):  # small reads, as from a serial port
        messages += parser.feed(stream[i : i + 64])
    messages += parser.idle()
    for message in messages:
        if not isinstance(message, p.Samples):
            continue
        expected_before = tracker.expected
        ok, missing = tracker.accept(message)
        if not ok:
            continue
        absolute = message.seq if expected_before is None else absolute + missing
        for k, c in enumerate(message.counts):
            cal.grams(c)
            accepted += 1
            if absolute + k >= len(truth) or truth[absolute + k] != c:
                wrong += 1
        absolute += len(message.counts)
    cpu = time.process_time() - t0
    return {
        "frames": frames,
        "samples_sent": 8 * frames,
        "recovered_share": round(accepted / (8 * frames), 4),
        "wrong_accepted": wrong,
        "crc_errors": parser.counters.crc_errors,
        "parse_cpu_s": round(cpu, 3),
        "samples_per_cpu_s": round(8 * frames / cpu),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--frames", type=int, default=36_000, help="offline frames (36000 = 1 h at 80/s)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()

    clean = live(args.seconds, 0.0)
    print(f"live, clean line, {clean['seconds']} s at 80 samples/s (real firmware under MicroPython, pty):")
    print(f"  throughput          {clean['samples_per_s']} samples/s, {clean['bytes_per_s']} bytes/s")
    print(f"  Pi-side CPU         {clean['pi_cpu_percent']} % of one core (link + parser + events)")
    print(f"  emulator CPU        {clean['emulator_cpu_percent']} % (MicroPython firmware + pty bridge)")
    print(f"  gaps {clean['gaps']}, CRC errors {clean['crc_errors']}, wrong samples {clean['wrong_accepted']}")

    bad = live_corrupted(args.seconds, 0.01, 11)
    print(
        f"live, 1 % of bytes dropped or bit-flipped, {bad['seconds']} s "
        f"({bad['corrupted_bytes']} of {bad['bytes']} bytes MCU->Pi corrupted):"
    )
    print(f"  recovered           {100 * bad['recovered_share']:.1f} % of samples ({bad['samples_per_s']}/s)")
    print(
        f"  CRC errors {bad['crc_errors']}, gaps {bad['gaps']} samples, wrong samples accepted {bad['wrong_accepted']}"
    )

    base = offline(args.frames, 0.0, 1)
    print(
        f"offline parser, clean: {base['samples_per_cpu_s']:,} samples per CPU-second "
        f"({80 / base['samples_per_cpu_s'] * 100:.4f} % of a core at 80 samples/s)"
    )
    total_wrong = 0
    for seed in range(1, args.seeds + 1):
        r = offline(args.frames, 0.01, seed)
        total_wrong += r["wrong_accepted"]
        print(
            f"offline, 1 % corrupted, seed {seed}: {r['samples_sent']:,} samples sent, "
            f"{100 * r['recovered_share']:.2f} % recovered, {r['crc_errors']:,} CRC errors, "
            f"wrong samples accepted {r['wrong_accepted']}"
        )
    wrong = total_wrong + clean["wrong_accepted"] + bad["wrong_accepted"]
    print(f"wrong samples accepted in total: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
