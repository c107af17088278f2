"""`cartd`: the daemon that owns the cart — scale link, camera, core, verifier, journal, local API.

cartd --config /etc/smartcart/cartd.toml
cartd --emulate [--trace T] [--state-dir D]   # emulated scale and camera, a demo session on a loop
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware.core.catalog import CatalogError, UnknownCode, load_catalog
from firmware.core.events import Event
from firmware.daemon.api import ApiServer
from firmware.daemon.bookstore import BookStore
from firmware.daemon.config import CartConfig, ConfigError, load_config
from firmware.daemon.service import CartService, DeviceHealth
from firmware.journal import Journal
from firmware.sync.credentials import CredentialError
from firmware.verifiers import make_verifier

if TYPE_CHECKING:
    from firmware.sync.runner import SyncRunner

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
        self.books = BookStore(self.state_dir / BOOK_DB)
        self.books.import_legacy(
            self.state_dir / LEGACY_BOOK_FILE,
            {CONFIRMED_MARK: self.state_dir / LEGACY_CONFIRMED_FILE, FLEET_MARK: self.state_dir / LEGACY_FLEET_FILE},
        )
        self.book = self.books.load()
        self.service = CartService(
            self.catalog,
            self.journal,
            cart_id=config.cart.id,
            currency=config.cart.currency,
            verifier=make_verifier(config.verifier.name),
            book=self.book,
        )
        self.service.session_closed.append(lambda _report: self._save_book())
        self.service.session_closed.append(lambda _report: self._prune_journal())
        self.service.devices["store"] = DeviceHealth(False, "no store configured: sessions stay on the cart")
        self.sync: SyncRunner | None = None
        self.api = ApiServer(self.service, VERSION)
        self.threads: list[DeviceThread] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stopped = asyncio.Event()

    @property
    def socket_path(self) -> Path:
        return self.state_dir / "cartd.sock"

    def attach_store(self, store_url: str, credential_path: Path) -> None:
        """Deliver finished sessions to the store, take its catalog and staff-confirmed weighings."""
        from firmware.sync.outbox import report_outbox
        from firmware.sync.runner import SyncRunner

        def on_status(status: dict[str, Any]) -> None:
            health = DeviceHealth(
                bool(status.get("ok")), str(status.get("detail", "")), {"pending": status.get("pending", 0)}
            )
            self._call_soon(self.service.set_device, "store", health)

        def on_catalog(path: Path, version: int) -> None:
            catalog = load_catalog(path)
            log.info("store catalog version %s: %d products", version, len(catalog))
            self._call_soon(self.service.replace_catalog, catalog)

        self.sync = SyncRunner(
            store_url or None,
            credential_path,
            self.state_dir / "journal.db",
            catalog_path=self.state_dir / STORE_CATALOG,
            on_catalog=on_catalog,
            on_weighings=lambda weighings: self.on_loop(self._learn_confirmed, weighings),
            on_fleet_weighings=lambda weighings: self.on_loop(self._learn_fleet, weighings),
            on_status=on_status,
        )
        if self.sync.cart_id != self.config.cart.id:  # every upload would be refused
            raise ConfigError(
                f"[cart] id {self.config.cart.id!r} is not the credential's cart {self.sync.cart_id!r}: "
                "provision the cart again (`cartctl provision`)"
            )
        self.service.outbox = report_outbox(self.journal, self.sync.cart_id)
        self.service.session_closed.append(lambda _report: self.sync.wake() if self.sync else None)

    def on_loop(self, learn: Callable[[list[Any]], None], weighings: list[Any]) -> None:
        """From the sync thread: learn on the loop, which alone touches the book, and wait for it (the
        runner moves past these weighings only once they are learned)."""
        assert self.loop is not None

        async def learning() -> None:
            learn(weighings)

        asyncio.run_coroutine_threadsafe(learning(), self.loop).result(30)

    def _learn_confirmed(self, weighings: list[Any]) -> None:
        """Staff-confirmed weighings (at least once: a weighing already applied is skipped by its id)."""
        self._learn(weighings, CONFIRMED_MARK, confirmed=True)

    def _learn_fleet(self, weighings: list[Any]) -> None:
        """What the store's other carts weighed in sessions they settled: ordinary observations."""
        self._learn(weighings, FLEET_MARK, confirmed=False)

    def _learn(self, weighings: list[Any], mark: str, *, confirmed: bool) -> None:
        last_id = self.books.learned_to(mark)
        for weighing in sorted(weighings, key=lambda w: w.id):
            if weighing.id <= last_id:
                continue
            last_id = weighing.id
            try:
                product = self.catalog.lookup(weighing.code).product
            except UnknownCode:
                continue
            if product.by_weight:
                continue
            self.book.observe(product.key, weighing.weight_g, confirmed=confirmed)
        self.books.save(self.book, {mark: last_id})  # the weighings and how far they go: both or neither

    def _save_book(self) -> None:
        """After a session: what it taught the book. A failed write loses learning, never the session."""
        try:
            self.books.save(self.book)
        except sqlite3.Error:
            log.exception("the weight book could not be saved: kept in memory, written with the next save")

    def _prune_journal(self) -> None:
        """Keep the SD card from filling: old raw samples, then old sessions, once delivered."""
        section = self.config.daemon
        try:
            thinned, dropped = self.journal.prune(section.keep_samples_sessions, section.keep_sessions)
        except sqlite3.Error:
            log.exception("the journal could not be pruned")
            return
        if thinned or dropped:
            log.info("journal: samples of %d old sessions dropped, %d older sessions dropped", thinned, dropped)

    def _call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.loop is not None:
            self.loop.call_soon_threadsafe(fn, *args)

    def post(self, event: Event) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # shutting down: the device thread has not seen the stop yet
        with contextlib.suppress(RuntimeError):  # closed between the check and the call
            loop.call_soon_threadsafe(self.service.device_event, event)

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
        log.info(
            "cartd %s: cart %s, %d products, API on %s",
            VERSION,
            self.config.cart.id,
            len(self.catalog),
            self.socket_path,
        )
        ticker = asyncio.create_task(self._tick())
        if self.sync is not None:
            self.sync.start()
        await self.stopped.wait()
        ticker.cancel()
        if self.sync is not None:
            await asyncio.to_thread(self.sync.stop)
        for thread in self.threads:
            thread.stopping.set()
        for thread in self.threads:
            await asyncio.to_thread(thread.join, 2.0)
        await self.api.close()
        self.journal.close()
        self.books.close()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.service.tick()
            except Exception:
                log.exception("tick failed")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    try:
        if args.emulate:
            from firmware.daemon.emulate import run_emulated

            return run_emulated(args)
        if args.config is None:
            print("cartd: give --config FILE, or --emulate for an emulated cart", file=sys.stderr)
            return 2
        config = load_config(args.config)
        if args.state_dir or args.listen:
            config = CartConfig(
                config.cart,
                config.store,
                config.scale,
                config.camera,
                config.verifier,
                dataclasses.replace(
                    config.daemon,
                    state_dir=str(args.state_dir or config.daemon.state_dir),
                    listen=args.listen or config.daemon.listen,
                ),
            )
        if not config.store.catalog:
            print(f"cartd: {args.config}: [store] catalog is not set", file=sys.stderr)
            return 2
        # the catalog the store last sent, once there is one, is newer than the one provisioned
        synced = Path(config.daemon.state_dir) / STORE_CATALOG
        daemon = Daemon(config, synced if synced.exists() else Path(config.store.catalog))
        attach_hardware(daemon)
        credential = Path(config.store.credential) if config.store.credential else None
        if credential is not None and credential.exists():
            try:
                daemon.attach_store(config.store.url, credential)
            except CredentialError as exc:
                print(f"cartd: {credential}: {exc}", file=sys.stderr)
                return 2
        else:
            log.warning("no cart credential (run `cartctl provision`): sessions stay on the cart, unsynced")
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


BOOK_DB = "weights.db"  # the weight book (firmware/daemon/bookstore.py)
STORE_CATALOG = "store-catalog.csv"  # where the sync runner keeps the store's latest catalog
CONFIRMED_MARK = "confirmed"  # the book's mark: id of the last staff-confirmed weighing learned
FLEET_MARK = "fleet"  # id of the last fleet weighing learned
LEGACY_BOOK_FILE = "weights.json"  # the book and its marks as older carts kept them, imported once
LEGACY_CONFIRMED_FILE = "confirmed-weighings.last"
LEGACY_FLEET_FILE = "fleet-weighings.last"


if __name__ == "__main__":
    sys.exit(main())
