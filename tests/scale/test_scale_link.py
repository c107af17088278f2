"""The Pi link and serial source over real pseudo-terminals (os.openpty) and pyserial's loop://:
resynchronisation, gap counting, version mismatch, and the cable pulled and plugged back."""

from __future__ import annotations

import itertools
import os
import time
import tty
from collections.abc import Callable
from pathlib import Path

import pytest

from firmware.core.events import ScaleFaulted, ScaleRestored, ScaleSampled
from firmware.scale import protocol as p
from firmware.scale.calibration import Calibration
from firmware.scale.fake_mcu import FakeMcu, PtyFakeMcu
from firmware.scale.link import CommandFailed, ProtocolMismatch, ScaleLink
from firmware.scale.source import SerialScaleSource

CAL = Calibration(offset=50_000.0, counts_per_gram=100.0)


def poll_until(source: SerialScaleSource, done: Callable[[list], bool], timeout_s: float = 10.0) -> list:
    events: list = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        events.extend(source.poll(0.05))
        if done(events):
            return events
    raise AssertionError(f"timed out; events so far: {events[-5:]}")


def grams_of(events: list) -> list[float]:
    return [g for e in events if isinstance(e, ScaleSampled) for g in e.values_g]


def test_link_over_os_openpty_with_raw_master() -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    link = ScaleLink(os.ttyname(slave))
    try:
        link.open()
        frames = b"\x00garbage\xa5" + p.encode_samples(10, [1, 2, 3]) + p.encode_samples(13, [4, -5])
        os.write(master, frames[:7])
        os.write(master, frames[7:])
        messages = []
        deadline = time.monotonic() + 2
        while len(messages) < 2 and time.monotonic() < deadline:
            messages += link.read(0.05)
        assert messages == [p.Samples(10, (1, 2, 3)), p.Samples(13, (4, -5))]
        assert link.counters.garbage_bytes == 9
        link.write(p.encode_command(p.MsgType.PING, 7, b"x"))
        time.sleep(0.05)
        assert os.read(master, 100) == p.encode_command(p.MsgType.PING, 7, b"x")
    finally:
        link.close()
        os.close(master)
        os.close(slave)


def test_link_over_loop_url_resyncs_after_corruption() -> None:
    link = ScaleLink("loop://")
    link.open()
    good = [p.encode_samples(8 * i, list(range(8 * i, 8 * i + 8))) for i in range(6)]
    bad = bytearray(good[2])
    bad[10] ^= 0x10
    stream = good[0] + good[1][:-3] + bytes(bad) + b"\xa5\x5a\xff" + good[3] + good[4] + good[4] + good[5]
    link.write(stream)
    messages: list = []
    deadline = time.monotonic() + 2
    while len(messages) < 5 and time.monotonic() < deadline:
        messages += link.read(0.1)
    link.close()
    tracker = p.SequenceTracker()
    kept = [m for m in messages if tracker.accept(m)[0]]
    assert [m.seq for m in kept] == [0, 24, 32, 40]
    assert tracker.gaps == 16  # batches 1 (truncated) and 2 (bit flip) lost
    assert tracker.duplicates == 1
    assert link.counters.crc_errors >= 1


def test_tracker_counts_gaps_and_wraps() -> None:
    t = p.SequenceTracker()
    t.reset(65530)
    assert t.accept(p.Samples(65530, (1,) * 4)) == (True, 0)
    assert t.accept(p.Samples(65534, (1,) * 4)) == (True, 0)  # wraps to 2
    assert t.accept(p.Samples(10, (1,) * 4)) == (True, 8)
    assert t.accept(p.Samples(10, (1,) * 4)) == (False, 0)  # duplicate
    assert t.accept(p.Samples(5000, (1,))) == (False, 0)  # implausible jump
    assert (t.gaps, t.duplicates, t.implausible) == (8, 1, 1)
    # a restarted MCU that keeps counting from elsewhere is adopted after 3 consistent batches
    assert t.accept(p.Samples(30000, (1, 1))) == (False, 0)
    assert t.accept(p.Samples(30002, (1, 1))) == (False, 0)
    assert t.accept(p.Samples(30004, (1, 1))) == (True, 0)
    assert t.expected == 30006


@pytest.fixture
def link_path(tmp_path: Path) -> Path:
    return tmp_path / "ttyScale"


def test_source_streams_calibrated_grams_and_counts_gaps(link_path: Path) -> None:
    mcu = FakeMcu(lambda seq: 50_000 + 100 * (seq % 50))
    with PtyFakeMcu(link_path, mcu) as served:
        source = SerialScaleSource(str(link_path), CAL)
        events = poll_until(source, lambda ev: len(grams_of(ev)) >= 24)
        with served.lock:
            mcu.skip_batches = 2
            mcu.garbage = b"\x00\x11\xa5\x5a\x03\x01\xff\xff"
        events += poll_until(source, lambda ev: source.tracker.gaps >= 16 and len(grams_of(ev)) >= 64)
        source.close()
    grams = grams_of(events)
    assert all(g == float(int(g)) and 0 <= g < 50 for g in grams)
    stats = source.stats()
    assert stats["gaps"] == 16, (stats, source.tracker)
    assert stats["garbage_bytes"] >= 3
    assert not [e for e in events if isinstance(e, ScaleFaulted)]
    # batches are stamped in order at the chip rate
    sampled = [e for e in events if isinstance(e, ScaleSampled)]
    assert all(a.t <= b.t for a, b in itertools.pairwise(sampled))
    assert all(e.sps == 80.0 for e in sampled)


def test_version_mismatch_is_refused_clearly(link_path: Path) -> None:
    with PtyFakeMcu(link_path, FakeMcu(protocol=2)):
        link = ScaleLink(str(link_path))
        link.open()
        with pytest.raises(ProtocolMismatch, match=r"speaks protocol version 2.*this cart speaks version 1"):
            link.identify()
        link.close()
        source = SerialScaleSource(str(link_path), CAL)
        events = poll_until(source, lambda ev: any(isinstance(e, ScaleFaulted) for e in ev))
        events += [e for _ in range(5) for e in source.poll(0.05)]
        source.close()
    assert "protocol version 2" in events[0].reason
    assert source.refused and not grams_of(events)


def test_cable_pull_faults_then_reconnects_by_itself(link_path: Path) -> None:
    mcu = FakeMcu(lambda seq: 50_000 + 1000)
    served = PtyFakeMcu(link_path, mcu)
    served.plug()
    source = SerialScaleSource(str(link_path), CAL, reconnect_interval_s=0.1)
    try:
        events = poll_until(source, lambda ev: len(grams_of(ev)) >= 16)
        served.unplug()
        events += poll_until(source, lambda ev: any(isinstance(e, ScaleFaulted) for e in ev))
        time.sleep(0.3)  # a few failed reconnect attempts while unplugged
        events += source.poll(0.05)
        served.replug()
        events += poll_until(source, lambda ev: any(isinstance(e, ScaleRestored) for e in ev))
        n = len(events)
        events += poll_until(source, lambda ev: len(grams_of(ev[n:])) >= 16)
    finally:
        source.close()
        served.unplug()
    kinds = [type(e).__name__ for e in events if not isinstance(e, ScaleSampled)]
    assert kinds == ["ScaleFaulted", "ScaleRestored"]
    fault = next(e for e in events if isinstance(e, ScaleFaulted))
    assert "scale link" in fault.reason
    assert source.stats()["reconnects"] == 1
    assert set(grams_of(events)) == {10.0}


def test_silent_chip_faults_and_restores(link_path: Path) -> None:
    mcu = FakeMcu()
    with PtyFakeMcu(link_path, mcu) as served:
        source = SerialScaleSource(str(link_path), CAL)
        events = poll_until(source, lambda ev: len(grams_of(ev)) >= 8)
        with served.lock:
            mcu.silent = True
        events += poll_until(source, lambda ev: any(isinstance(e, ScaleFaulted) for e in ev))
        with served.lock:
            mcu.silent = False
        events += poll_until(source, lambda ev: any(isinstance(e, ScaleRestored) for e in ev))
        source.close()
    fault = next(e for e in events if isinstance(e, ScaleFaulted))
    assert "HX711 not answering" in fault.reason
    assert source.stats()["reconnects"] == 0


def test_commands_are_resent_until_acknowledged(link_path: Path) -> None:
    mcu = FakeMcu()
    with PtyFakeMcu(link_path, mcu) as served:
        link = ScaleLink(str(link_path), retry_interval_s=0.1)
        link.open()
        with served.lock:
            mcu.answer_commands = False
        with pytest.raises(Exception, match="no answer to PING"):
            link.ping(b"a")
        assert link.resends == 3
        with served.lock:
            mcu.answer_commands = True
        assert link.set_rate(10) == 10
        with pytest.raises(ValueError, match="10 or 80"):
            link.set_rate(20)
        link.close()
    pings = [c for c in mcu.commands if c.command == p.MsgType.PING]
    assert len(pings) == 4 and len({c.token for c in pings}) == 1


def test_maintenance_refused_by_older_firmware_says_so(link_path: Path) -> None:
    mcu = FakeMcu()  # like firmware before 1.1.0: MAINTENANCE is an unknown command
    with PtyFakeMcu(link_path, mcu):
        link = ScaleLink(str(link_path))
        link.open()
        with pytest.raises(CommandFailed, match="MCU refused MAINTENANCE: unknown_command") as info:
            link.maintenance()
        link.close()
    assert info.value.result is p.AckResult.UNKNOWN_COMMAND
    [command] = mcu.commands
    assert command.command == p.MsgType.MAINTENANCE == 0x16 and command.args == b""


def test_unopenable_port_is_a_fault_not_a_crash(tmp_path: Path) -> None:
    source = SerialScaleSource(str(tmp_path / "nothing-here"), CAL, reconnect_interval_s=0.05)
    events = source.poll(0.05) + source.poll(0.05)
    assert isinstance(events[0], ScaleFaulted) and "cannot open" in events[0].reason
    assert len(events) == 1
    bogus = SerialScaleSource("bogus://x", CAL)
    [event] = bogus.poll(0.01)
    assert isinstance(event, ScaleFaulted) and "protocol 'bogus' not known" in event.reason
