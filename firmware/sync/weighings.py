"""Confirmed weighings from the store: weights staff vouched for, for per-product weight learning.

The cart polls with the last id it has seen (never a time); the learning itself lives elsewhere
and takes the `ConfirmedWeighing` values this returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.sync.client import StoreClient


class WeighingFetchError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ConfirmedWeighing:
    id: int
    session_id: str
    code: str
    weight_g: float
    source: str  # "approved": the cart's own attribution confirmed; "identified": staff named it


def fetch_confirmed_weighings(
    client: StoreClient, since: int, page: int = 500, max_pages: int = 100
) -> tuple[list[ConfirmedWeighing], int]:
    """All weighings after id `since` and the id to poll from next time."""
    out: list[ConfirmedWeighing] = []
    for _ in range(max_pages):
        reply = client.confirmed_weighings(since, page)
        if reply.status != 200:
            raise WeighingFetchError(f"the store answered {reply.status}: {reply.body.get('detail', '')}")
        rows = reply.body["weighings"]
        out += [ConfirmedWeighing(r["id"], r["session_id"], r["code"], float(r["weight_g"]), r["source"]) for r in rows]
        since = int(reply.body["next_since"])
        if len(rows) < page:
            break
    return out, since
