"""Weighings from the store, for per-product weight learning: the ones staff vouched for, and the
units the store's other carts weighed alone in sessions they settled (the fleet's).

The cart polls each with the last id it has seen (never a time); the learning itself lives elsewhere
and takes the `ConfirmedWeighing` and `FleetWeighing` values this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from firmware.sync.client import Reply, StoreClient

T = TypeVar("T")


class WeighingFetchError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ConfirmedWeighing:
    id: int
    session_id: str
    code: str
    weight_g: float
    source: str  # "approved": the cart's own attribution confirmed; "identified": staff named it


@dataclass(frozen=True, slots=True)
class FleetWeighing:
    id: int  # the store's fleet-weighing id: its own sequence, apart from confirmed weighings
    code: str
    weight_g: float


def fetch_confirmed_weighings(
    client: StoreClient, since: int, page: int = 500, max_pages: int = 100
) -> tuple[list[ConfirmedWeighing], int]:
    """All weighings staff confirmed after id `since` and the id to poll from next time."""

    def parse(r: dict[str, Any]) -> ConfirmedWeighing:
        return ConfirmedWeighing(r["id"], r["session_id"], r["code"], float(r["weight_g"]), r["source"])

    return _pages(client.confirmed_weighings, parse, since, page, max_pages)


def fetch_fleet_weighings(
    client: StoreClient, since: int, page: int = 500, max_pages: int = 100
) -> tuple[list[FleetWeighing], int]:
    """All fleet weighings after id `since` and the id to poll from next time."""

    def parse(r: dict[str, Any]) -> FleetWeighing:
        return FleetWeighing(int(r["id"]), r["code"], float(r["weight_g"]))

    return _pages(client.fleet_weighings, parse, since, page, max_pages)


def _pages(
    call: Callable[[int, int], Reply], parse: Callable[[dict[str, Any]], T], since: int, page: int, max_pages: int
) -> tuple[list[T], int]:
    out: list[T] = []
    for _ in range(max_pages):
        reply = call(since, page)
        if reply.status != 200:
            raise WeighingFetchError(f"the store answered {reply.status}: {reply.body.get('detail', '')}")
        rows = reply.body["weighings"]
        out += [parse(r) for r in rows]
        since = int(reply.body["next_since"])
        if len(rows) < page:
            break
    return out, since
