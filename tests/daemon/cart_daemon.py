"""A `Daemon` on a temp state folder with the store harness's catalog, and a one-item session on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware.core.events import ScaleSampled
from firmware.daemon.config import parse_config
from firmware.daemon.main import Daemon
from tools.store_harness import CATALOG_CSV

GUM = "96385074"


def make_daemon(tmp_path: Path, **daemon_section: Any) -> Daemon:
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CATALOG_CSV)
    section = {"state_dir": str(tmp_path / "state"), **daemon_section}
    return Daemon(parse_config({"cart": {"id": "cart-1"}, "daemon": section}), catalog)


def shop_gum(d: Daemon, grams: float = 22.1) -> dict[str, Any]:
    """Start, scan the gum, put it in, check out: the session's report."""
    clock = [100.0]
    d.service.clock = lambda: clock[0]

    def hold(level: float, seconds: float) -> None:
        for _ in range(round(seconds * 10)):
            d.service.device_event(ScaleSampled(clock[0], 80.0, tuple([level] * 8)))
            clock[0] += 0.1

    d.service.intent("start", {})
    hold(0.0, 2)
    d.service.intent("code", {"text": GUM})
    hold(grams, 2)
    d.service.intent("checkout", {})
    return d.service.intent("end", {})["report"]
