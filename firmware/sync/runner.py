"""The cart daemon's sync runner: one background thread that keeps the cart and the store in step.

`SyncRunner` owns a thread with its own `Journal` on the journal file (SQLite connections stay in
the thread that made them) and its own signed `StoreClient`. The thread

- delivers the journal's outbox with a `DeliveryWorker` (backoff and full jitter per row; rows
  acknowledged by row id); `wake()` makes it look at once, e.g. right after a session ended;
- polls the store's catalog (versioned, incremental: `catalog_sync`) and, when the version moved,
  calls `on_catalog(path, version)` after the new copy is in place;
- polls the weighings staff confirmed and calls `on_weighings(list)`; the id to poll from next is
  kept in a small state file and only moves once the callback returned (at least once: each
  weighing carries its store id, so a consumer can drop one it has already seen);
- the same, with its own cursor, for the fleet's weighings (units the store's other carts weighed
  alone in sessions they settled) and `on_fleet_weighings(list)`;
- with nothing to poll, still sends a small signed probe each poll interval, so the status says
  whether the store is reachable and accepts the cart's credential;
- backs its polls off with full jitter while the store is unreachable, and once the store answers
  again retries at once the rows that were waiting out a network backoff (never the parked ones).

`status()` is the dict for the daemon's snapshot: `{"ok", "pending", "detail", "last_sync_unix",
"parked", "catalog_version"}`; `on_status` is called with it (from the runner's thread) when it
changes. Callbacks run on the runner's thread: the daemon hands them to its event loop.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from firmware.journal import Journal
from firmware.sync.catalog_sync import CatalogSyncError, held_version, sync_catalog, write_atomic
from firmware.sync.client import Reply, StoreClient
from firmware.sync.credentials import Credential, CredentialError, load_credential
from firmware.sync.delivery import Backoff, DeliveryWorker
from firmware.sync.weighings import (
    ConfirmedWeighing,
    FleetWeighing,
    WeighingFetchError,
    fetch_confirmed_weighings,
    fetch_fleet_weighings,
)

log = logging.getLogger(__name__)

CatalogCallback = Callable[[Path, int], object]
WeighingsCallback = Callable[[list[ConfirmedWeighing]], object]
FleetCallback = Callable[[list[FleetWeighing]], object]
StatusCallback = Callable[[dict[str, Any]], object]


class _WatchedClient(StoreClient):
    """A StoreClient that tells the runner how each exchange with the store went."""

    def __init__(self, credential: Credential, watch: Callable[[Reply | None, str], None], **kwargs: Any) -> None:
        super().__init__(credential, **kwargs)
        self._watch = watch

    def request(self, method: str, path: str, payload: Any = None, params: dict[str, Any] | None = None) -> Reply:
        try:
            reply = super().request(method, path, payload, params)
        except httpx.TransportError as exc:
            self._watch(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            raise
        self._watch(reply, "")
        return reply


class SyncRunner:
    def __init__(
        self,
        store_url: str | None,
        credential_path: str | Path,
        journal_path: str | Path,
        *,
        catalog_path: str | Path | None = None,
        on_catalog: CatalogCallback | None = None,
        on_weighings: WeighingsCallback | None = None,
        on_fleet_weighings: FleetCallback | None = None,
        on_status: StatusCallback | None = None,
        state_path: str | Path | None = None,
        poll_interval_s: float = 60.0,
        idle_s: float = 5.0,
        delivery_backoff: Backoff | None = None,
        poll_backoff: Backoff | None = None,
        timeout_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        """`store_url` empty or None: the URL in the credential file. Raises CredentialError."""
        credential = load_credential(credential_path)
        if store_url:
            if not store_url.startswith(("http://", "https://")):
                raise CredentialError(f"store URL {store_url!r} must start with http:// or https://")
            credential = Credential(credential.cart_id, credential.secret, store_url.rstrip("/"))
        self.credential = credential
        self.journal_path = Path(journal_path)
        self.catalog_path = Path(catalog_path) if catalog_path is not None else None
        self.state_path = Path(state_path) if state_path else self.journal_path.with_name("sync-state.json")
        self.on_catalog = on_catalog
        self.on_weighings = on_weighings
        self.on_fleet_weighings = on_fleet_weighings
        self.on_status = on_status
        self.poll_interval_s = poll_interval_s
        self.idle_s = idle_s
        self.delivery_backoff = delivery_backoff or Backoff()
        self.poll_backoff = poll_backoff or Backoff(base_s=2.0, cap_s=max(poll_interval_s, 2.0))
        self.timeout_s = timeout_s
        self.rng = rng or random.Random()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: dict[str, Any] = {"ok": False, "pending": 0, "detail": "not started", "last_sync_unix": None}
        # what the store said last (written by the watched client, on the runner's thread)
        self._contact_error = ""  # empty: the last exchange got an answer
        self._contact_failures = 0
        self._recovered = False
        self._refused = ""  # a 401 or 5xx: the store answers but will not serve the cart
        self._last_ok_unix: float | None = None
        self._fault = ""  # an unexpected error in the last cycle (the journal, a bug)
        self._poll_fault = ""  # what went wrong in the last poll (a bad answer, a callback, the disk)
        self._catalog_version = held_version(self.catalog_path) if self.catalog_path else 0
        self._next_poll_unix = 0.0
        self._poll_failures = 0

    @property
    def cart_id(self) -> str:
        """The credential's cart id: the one the outbox messages must carry."""
        return self.credential.cart_id

    # -- the daemon's side -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync runner was already started")
        with self._lock:
            self._status = {"ok": False, "pending": 0, "detail": "starting", "last_sync_unix": None}
        self._thread = threading.Thread(target=self._run, name="sync-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop and join the thread (a request in flight ends within the client's timeout)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("sync runner did not stop within %.0f s", timeout_s)

    def wake(self) -> None:
        """Look at the outbox now (thread-safe), e.g. right after a session ended."""
        self._wake.set()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._status)

    # -- the thread --------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            journal = Journal(self.journal_path)
        except Exception as exc:  # sqlite3.Error, OSError: nothing can be delivered without it
            log.exception("sync runner cannot open the journal")
            self._set_status(
                {"ok": False, "pending": -1, "detail": f"cannot open the journal: {exc}", "last_sync_unix": None}
            )
            return
        client = _WatchedClient(self.credential, self._watch, timeout_s=self.timeout_s)
        worker = DeliveryWorker(journal, client, rng=self.rng, backoff=self.delivery_backoff, sleep=lambda _s: None)
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                self._cycle(journal, worker)
                self._publish(journal)
                self._wake.wait(self._wait_s(journal))
        finally:
            client.close()
            journal.close()

    def _cycle(self, journal: Journal, worker: DeliveryWorker) -> None:
        self._fault = ""
        try:
            worker.deliver_due()
            if time.time() >= self._next_poll_unix:
                self._poll(worker.client)
            if self._recovered:  # the store is back: do not leave rows waiting out a long backoff
                self._recovered = False
                self._deliver_backed_off(journal, worker)
        except Exception as exc:  # a disk error or a bug must not end syncing for good
            log.exception("sync cycle failed")
            self._fault = f"sync error: {type(exc).__name__}: {exc}"

    def _deliver_backed_off(self, journal: Journal, worker: DeliveryWorker) -> None:
        parked = {row_id for row_id, _error in _parked_rows(journal)}
        horizon = time.time() + self.delivery_backoff.cap_s
        for row in journal.outbox_due(horizon, worker.batch):
            if row.row_id not in parked and not self._stopping.is_set():
                worker.deliver(row)

    def _poll(self, client: StoreClient) -> None:
        self._poll_fault = ""
        try:
            if self.catalog_path is not None:
                self._poll_catalog(client, self.catalog_path)
            if self.on_weighings is not None:
                self._poll_weighings(client, self.on_weighings)
            if self.on_fleet_weighings is not None:
                self._poll_fleet(client, self.on_fleet_weighings)
            if self.catalog_path is None and self.on_weighings is None and self.on_fleet_weighings is None:
                client.confirmed_weighings(0, 1)  # a signed probe: is the store there, does it know us?
        except Exception as exc:  # unreachable, a refusal, a malformed answer, a full disk: back off
            self._poll_failures += 1
            wait = self.poll_backoff.delay_s(self._poll_failures, self.rng)
            self._next_poll_unix = time.time() + wait
            expected = (httpx.HTTPError, CatalogSyncError, WeighingFetchError, OSError, KeyError, TypeError, ValueError)
            if not isinstance(exc, expected):
                log.exception("store poll failed")
            if not isinstance(exc, httpx.TransportError):  # unreachable is already in the status
                self._poll_fault = f"poll failed: {type(exc).__name__}: {exc}"
            log.info("store poll failed (%s); next in %.1f s", exc, wait)
            return
        self._poll_failures = 0
        self._next_poll_unix = time.time() + self.poll_interval_s * self.rng.uniform(0.9, 1.1)

    def _poll_catalog(self, client: StoreClient, path: Path) -> None:
        version = sync_catalog(client, path)
        if version and version != self._catalog_version:
            log.info("catalog now at store version %d (was %d)", version, self._catalog_version)
            if self.on_catalog is None or self._callback("on_catalog", self.on_catalog, path, version):
                self._catalog_version = version  # else: offered again at the next poll

    def _poll_weighings(self, client: StoreClient, on_weighings: WeighingsCallback) -> None:
        self._poll_since(client, "weighings_since", fetch_confirmed_weighings, "on_weighings", on_weighings)

    def _poll_fleet(self, client: StoreClient, on_fleet: FleetCallback) -> None:
        self._poll_since(client, "fleet_since", fetch_fleet_weighings, "on_fleet_weighings", on_fleet)

    def _poll_since(
        self,
        client: StoreClient,
        cursor: str,
        fetch: Callable[[StoreClient, int], tuple[list[Any], int]],
        name: str,
        callback: Callable[[list[Any]], object],
    ) -> None:
        """New rows of an id-ordered feed; the cursor moves only once the callback took them."""
        since = self._load_since(cursor)
        rows, next_since = fetch(client, since)
        if rows and not self._callback(name, callback, rows):
            return  # not taken: ask for the same ones next time
        self._save_since(cursor, since, next_since)

    def _load_since(self, name: str) -> int:
        try:
            return int(json.loads(self.state_path.read_text()).get(name, 0))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s unreadable (%s): asking for every weighing again", self.state_path, exc)
            return 0

    def _save_since(self, name: str, since: int, next_since: int) -> None:
        if next_since == since:
            return
        try:
            state = json.loads(self.state_path.read_text())
            state = state if isinstance(state, dict) else {}
        except (OSError, ValueError):
            state = {}
        state.update({"version": 1, name: next_since})
        write_atomic(self.state_path, json.dumps(state, sort_keys=True))

    def _callback(self, name: str, callback: Callable[..., object], *args: Any) -> bool:
        try:
            callback(*args)
        except Exception as exc:
            log.exception("%s callback failed", name)
            if name != "on_status":
                self._poll_fault = f"{name} failed: {type(exc).__name__}: {exc}"
            return False
        return True

    def _watch(self, reply: Reply | None, error: str) -> None:
        if reply is None:
            self._contact_error = error
            self._contact_failures += 1
            return
        if self._contact_failures:
            self._recovered = True
        self._contact_error, self._contact_failures = "", 0
        detail = str(reply.body.get("detail", ""))[:200]
        if reply.status == 401:
            self._refused = f"the store refuses this cart's credential (HTTP 401: {detail})"
        elif reply.status >= 500:
            self._refused = f"store error (HTTP {reply.status}: {detail})"
        else:
            self._refused = ""
            if reply.ok:
                self._last_ok_unix = time.time()

    def _wait_s(self, journal: Journal) -> float:
        wait = min(self.idle_s, max(self._next_poll_unix - time.time(), 0.0))
        due = journal.outbox_next_due()
        if due is not None:
            wait = min(wait, max(due - time.time(), 0.0))
        return max(wait, 0.05)

    # -- status --------------------------------------------------------------------------------------

    def _publish(self, journal: Journal) -> None:
        try:
            pending = journal.outbox_pending()
            parked = _parked_rows(journal)
        except Exception as exc:
            pending, parked = -1, []
            self._fault = self._fault or f"journal unreadable: {exc}"
        waiting = f"{pending} session(s) waiting"
        if self._fault or self._poll_fault:
            ok, detail = False, self._fault or self._poll_fault
        elif self._contact_error:
            ok, detail = False, f"store unreachable ({self._contact_error}); {waiting}"
        elif self._refused:
            ok, detail = False, f"{self._refused}; {waiting}"
        elif parked:
            ok, detail = False, f"{len(parked)} session(s) refused by the store, see a technician: {parked[0][1]}"
        elif self._last_ok_unix is None:
            ok, detail = False, f"no answer from the store yet; {waiting}"
        elif pending:
            ok, detail = True, f"delivering: {waiting}"
        else:
            ok, detail = True, "in sync" + (f" (catalog version {self._catalog_version})" if self.catalog_path else "")
        self._set_status(
            {
                "ok": ok,
                "pending": pending,
                "detail": detail,
                "last_sync_unix": self._last_ok_unix,
                "parked": len(parked),
                "catalog_version": self._catalog_version,
            }
        )

    def _set_status(self, status: dict[str, Any]) -> None:
        with self._lock:
            changed = status != self._status
            self._status = status
        if changed and self.on_status is not None:
            self._callback("on_status", self.on_status, dict(status))


def _parked_rows(journal: Journal) -> list[tuple[int, str]]:
    """Unacknowledged rows the delivery worker parked (an answer resending cannot fix), oldest first."""
    rows = journal.db.execute(
        "SELECT row_id, last_error FROM outbox WHERE acked_unix IS NULL AND last_error LIKE 'parked:%' ORDER BY row_id"
    ).fetchall()
    return [(int(row_id), str(error)) for row_id, error in rows]
