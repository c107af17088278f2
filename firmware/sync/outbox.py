"""The `session.closed/1` message the cart queues for the store when a session ends.

`outbox_maker(...)` is what `CartPipeline.close(stats, outbox=...)` takes (`report_outbox(...)`
the same for every session of a daemon): it turns the final report into an outbox row
(`message_id`, `topic`, `payload`) that the journal writes in the same transaction that ends the
session. Ids are minted here, on the cart: the message id is a fresh
UUID4, the idempotency key is (cart id, session id, sequence). The payload carries the report,
the weighings the cart attributed (for weight learning once staff confirm them) and the evidence
staff need: each alert with the load-cell trace around it, and camera frames when there are any.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Callable
from typing import Any

from firmware.journal import Journal

TOPIC = "session.closed/1"
BEFORE_S, AFTER_S = 10.0, 3.0  # trace kept around each alert (a held change is alerted after its grace)
MAX_TRACE_POINTS = 4000
MAX_FRAMES = 20
HELD_KINDS = ("unscanned_item", "weight_mismatch")

# (t_from, t_to) -> [(t, media_type, image bytes)], e.g. frames the camera kept around alerts
FrameSource = Callable[[float, float], list[tuple[float, str, bytes]]]


def outbox_maker(
    journal: Journal, cart_id: str, session_id: str, *, sequence: int = 1, frames: FrameSource | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def make(report: dict[str, Any]) -> dict[str, Any]:
        return session_message(journal, cart_id, session_id, report, sequence=sequence, frames=frames)

    return make


def report_outbox(
    journal: Journal, cart_id: str, *, sequence: int = 1, frames: FrameSource | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """For a long-lived owner of many sessions (the daemon's `CartService(outbox=...)`): the
    session id comes from each final report. `cart_id` must be the credential's cart id."""

    def make(report: dict[str, Any]) -> dict[str, Any]:
        return session_message(journal, cart_id, str(report["session_id"]), report, sequence=sequence, frames=frames)

    return make


def session_message(
    journal: Journal,
    cart_id: str,
    session_id: str,
    report: dict[str, Any],
    *,
    sequence: int = 1,
    frames: FrameSource | None = None,
) -> dict[str, Any]:
    message_id = str(uuid.uuid4())
    payload = {
        "schema": TOPIC,
        "message_id": message_id,
        "cart_id": cart_id,
        "session_id": session_id,
        "sequence": sequence,
        "report": report,
        "weighings": weighings(journal, session_id, report),
        "evidence": evidence(journal, session_id, report, frames),
    }
    return {"message_id": message_id, "topic": TOPIC, "payload": payload}


def weighings(journal: Journal, session_id: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Units that went in (code, grams) and the unexplained weight behind open alerts (code None)."""
    by_weight = {item["code"] for item in report["items"] if item.get("weight_g") is not None}
    out: list[dict[str, Any]] = []
    by_uid: dict[Any, dict[str, Any]] = {}
    for t, kind, data in journal.entries(session_id, "effect"):
        if kind == "cart.item_added" and not data.get("returned"):
            weighing = {
                "t": t,
                "weight_g": float(data["weight_g"]),
                "code": data["code"],
                "by_weight": data["code"] in by_weight,
                "verified": bool(data.get("verified")),
                "alone": data.get("together") == 1,
            }
            out.append(weighing)
            by_uid[data.get("uid")] = weighing
        elif kind == "cart.item_revised" and data.get("uid") in by_uid:  # a weight (or count) corrected later
            weighing = by_uid[data["uid"]]
            weighing["weight_g"] = float(data["weight_g"])
            weighing["alone"] = weighing["alone"] and data.get("together") == 1
    settled = [
        (t, data["delta_g"]) for t, kind, data in journal.entries(session_id, "input") if kind == "scale.settled"
    ]
    used: set[float] = set()
    for alert in report["alerts"]:
        if alert["resolved"] or alert["kind"] not in HELD_KINDS:
            continue
        cause = [(t, d) for t, d in settled if t <= alert["t"] and d > 0 and t not in used]
        if cause:
            t, delta = cause[-1]
            used.add(t)
            out.append({"t": t, "weight_g": round(delta, 1), "code": None, "by_weight": False, "verified": False})
    return sorted(out, key=lambda w: w["t"])


def evidence(journal: Journal, session_id: str, report: dict[str, Any], frames: FrameSource | None) -> dict[str, Any]:
    raised = [data for _t, kind, data in journal.entries(session_id, "effect") if kind == "alert.raised"]
    alerts = []
    for index, alert in enumerate(report["alerts"]):
        detail = raised[index].get("detail", "") if index < len(raised) else ""
        alerts.append({**alert, "detail": detail, "trace": trace_around(journal, session_id, alert["t"])})
    shots: list[dict[str, Any]] = []
    if frames is not None:
        for alert in report["alerts"]:
            for t, media_type, data in frames(alert["t"] - BEFORE_S, alert["t"] + AFTER_S):
                if len(shots) < MAX_FRAMES:
                    shots.append({"t": t, "media_type": media_type, "data_b64": base64.b64encode(data).decode("ascii")})
    return {"alerts": alerts, "frames": shots}


def trace_around(journal: Journal, session_id: str, t: float) -> dict[str, Any] | None:
    """The contiguous run of samples covering [t - BEFORE_S, t + AFTER_S], or None without samples."""
    t_from, t_to = t - BEFORE_S, t + AFTER_S
    blocks = journal.samples(session_id, t_from - 5.0, t_to)  # a block starting earlier may cover t_from
    t0: float | None = None
    sps = 0.0
    values: list[float | None] = []
    for block in blocks:
        step = 1.0 / block.sps
        for i, value in enumerate(block.values_g):
            ts = block.t + i * step
            if ts < t_from or ts > t_to:
                continue
            if t0 is not None and (block.sps != sps or abs(ts - (t0 + len(values) / sps)) > 1.5 / sps):
                if ts <= t:  # a gap or a rate change before the alert: start the run again here
                    t0, sps, values = ts, block.sps, []
                else:
                    return _trace(t0, sps, values)
            if t0 is None:
                t0, sps = ts, block.sps
            values.append(round(float(value), 2) if math.isfinite(value) else None)
    return _trace(t0, sps, values) if t0 is not None else None


def _trace(t0: float, sps: float, values: list[float | None]) -> dict[str, Any]:
    if len(values) > MAX_TRACE_POINTS:  # keep the samples, thin the rate
        keep = -(-len(values) // MAX_TRACE_POINTS)
        values, sps = values[::keep], sps / keep
    return {"t0": round(t0, 4), "sps": sps, "values_g": values}
