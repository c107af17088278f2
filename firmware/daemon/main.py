"""`cartd`: the daemon that owns the cart — scale link, camera, core, verifier, journal, local API.

    cartd --config /etc/smartcart/cartd.toml
    cartd --emulate [--trace T] [--state-dir D]   # emulated scale and camera, a demo session on a loop
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from firmware.core.catalog import CatalogError, load_catalog
from firmware.core.events import Event
from firmware.daemon.api import ApiServer
from firmware.daemon.config import CartConfig, CartSection, ConfigError, DaemonSection, load_config
from firmware.daemon.service import CartService
from firmware.journal import Journal
from firmware.verifiers import make_verifier

VERSION = "0.1.0"
TICK_S = 0.25
log = logging.getLogger("cartd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cartd", description="The smart cart daemon.")
    parser.add_argument("--config", type=Path, help="cartd.toml (see firmware/daemon/config.py)")
    parser.add_argument("--emulate", action="store_true", help="emulated scale and camera playing a demo session")
    parser.add_argument("--trace", type=Path, help="with --emulate: the session to play (default: the demo)")
    parser.add_argument("--state-dir", type=Path, help="journal, socket and device links (overrides the config)")
    parser.add_argument("--listen", help="also serve the API on HOST:PORT (overrides the config)")
    parser.add_argument("--loops", type=int, default=0, help="with --emulate: stop after this many sessions")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser


class DeviceThread(threading.Thread):
    """Polls one device (a ScaleSource or a camera reader) and posts its events to the loop."""

    def __init__(self, name: str, poll: Callable[[], list[Event]], post: Callable[[Event], None]) -> None:
        super().__init__(name=name, daemon=True)
        self.poll = poll
        self.post = post
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                events = self.poll()
            except Exception:  # a device driver bug must not take the daemon down
                log.exception("%s poll failed", self.name)
                self.stopping.wait(1.0)
                continue
            for event in events:
                self.post(event)


class Daemon:
    def __init__(self, config: CartConfig, catalog_path: Path) -> None:
        self.config = config
        self.state_dir = config.state_dir
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = load_catalog(catalog_path)
        for error in self.catalog.errors[:20]:
            log.warning("catalog %s: %s", catalog_path, error)
        self.journal = Journal(self.state_dir / "journal.db")
        self.service = CartService(
            self.catalog, self.journal, cart_id=config.cart.id, currency=config.cart.currency,
            verifier=make_verifier(config.verifier.name),
        )
        self.api = ApiServer(self.service, VERSION)
        self.threads: list[DeviceThread] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped = asyncio.Event()

    @property
    def socket_path(self) -> Path:
        return self.state_dir / "cartd.sock"

    def post(self, event: Event) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.service.device_event, event)

    def add_device(self, name: str, poll: Callable[[], list[Event]]) -> None:
        thread = DeviceThread(name, poll, self.post)
        self.threads.append(thread)
        if self.loop is not None:
            thread.start()

    async def run(self, listen: str = "") -> None:
        self.loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                self.loop.add_signal_handler(sig, self.stopped.set)
        await self.api.start(self.socket_path, listen)
        for thread in self.threads:
            thread.start()
        log.info("cartd %s: cart %s, %d products, API on %s", VERSION, self.config.cart.id, len(self.catalog),
                 self.socket_path)
        ticker = asyncio.create_task(self._tick())
        await self.stopped.wait()
        ticker.cancel()
        for thread in self.threads:
            thread.stopping.set()
        await self.api.close()
        self.journal.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.service.tick()
            except Exception:
                log.exception("tick failed")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        if args.emulate:
            from firmware.daemon.emulate import run_emulated

            return run_emulated(args)
        if args.config is None:
            print("cartd: give --config FILE, or --emulate for an emulated cart", file=sys.stderr)
            return 2
        config = load_config(args.config)
        if args.state_dir or args.listen:
            config = CartConfig(config.cart, config.store, config.scale, config.camera, config.verifier,
                                DaemonSection(str(args.state_dir or config.daemon.state_dir),
                                              args.listen or config.daemon.listen))
        if not config.store.catalog:
            print(f"cartd: {args.config}: [store] catalog is not set", file=sys.stderr)
            return 2
        daemon = Daemon(config, Path(config.store.catalog))
        attach_hardware(daemon)
        asyncio.run(daemon.run(config.daemon.listen))
        return 0
    except (ConfigError, CatalogError) as exc:
        print(f"cartd: {exc}", file=sys.stderr)
        return 2


def attach_hardware(daemon: Daemon) -> None:
    """The real scale (and camera, when configured) from the config."""
    config = daemon.config
    if config.scale.port:
        from firmware.scale import calibration
        from firmware.scale.source import SerialScaleSource

        cal = calibration.load(config.scale.calibration or None)
        source = SerialScaleSource(config.scale.port, cal)
        daemon.add_device("scale", lambda: source.poll(0.1))
    else:
        log.warning("no [scale] port configured: running without a scale")


def default_cart_config(state_dir: Path) -> CartConfig:
    return CartConfig(cart=CartSection(id="demo-cart"), daemon=DaemonSection(state_dir=str(state_dir)))
