"""Session ingest: an idempotent upsert keyed by (cart, session, sequence).

The first delivery stores the session, its charge (unless a person must review it first) and the
answer, all in one transaction. A replay of the same body gets the stored answer; the same key
with a different body, or a message id reused under another key, gets 409. Two copies racing
each other meet at the unique constraints: the loser rolls back and answers as a replay.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from cart_store.db import Charge, FleetWeighing, Message, Session, keep_latest_fleet
from cart_store.decisions import staying_on_bill
from cart_store.schemas import IngestAnswer, SessionMessage

TOPIC = "session.closed/1"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def body_digest(obj: Any) -> str:
    """Digest of the JSON value, not of its bytes: key order and spacing do not make a new body."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def ingest(
    sessions: sessionmaker[DbSession],
    cart_id: str,
    session_id: str,
    sequence: int,
    body: bytes,
    now: float | None = None,
) -> Outcome:
    now = time.time() if now is None else now
    try:
        obj = json.loads(body, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        return Outcome(422, {"detail": f"body is not JSON: {exc}"})
    digest = body_digest(obj)
    for _attempt in range(3):
        with sessions() as db:
            known = _known(db, cart_id, session_id, sequence, obj, digest)
            if known is not None:
                return known
            try:
                message = SessionMessage.model_validate(obj)
            except ValidationError as exc:
                errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors(include_url=False)]
                return Outcome(422, {"detail": errors})
            mismatch = _key_mismatch(message, cart_id, session_id, sequence)
            if mismatch:
                return Outcome(422, {"detail": mismatch})
            try:
                return _store(db, message, digest, now)
            except IntegrityError:
                db.rollback()  # a racing copy got there first: answer as it did
    return Outcome(503, {"detail": "could not store the message, try again"})


def _known(db: DbSession, cart_id: str, session_id: str, sequence: int, obj: Any, digest: str) -> Outcome | None:
    """The answer for a key or message id already stored, else None.

    One SELECT, so one snapshot: under PostgreSQL's READ COMMITTED every statement sees the data
    committed when it starts, and asking "is the key there?" and "is the session there?" in two
    statements lets a racing copy commit in between, which made a replay look like another
    sequence (409). Every stored session has its message row, written in the same transaction,
    so the messages of this (cart, session) answer both questions at once.
    """
    message_id = obj.get("message_id") if isinstance(obj, dict) else None
    rows = db.scalars(
        select(Message).where(
            or_(
                (Message.cart_id == cart_id) & (Message.session_id == session_id),
                Message.message_id == str(message_id),
            )
        )
    ).all()
    key = (cart_id, session_id, sequence)
    same_key = [row for row in rows if (row.cart_id, row.session_id, row.sequence) == key]
    if same_key:
        row = same_key[0]
        if row.body_sha256 != digest:
            return Outcome(409, {"detail": "this (cart, session, sequence) was stored with another body"})
        db.execute(update(Message).where(Message.id == row.id).values(replays=Message.replays + 1))
        db.commit()
        return Outcome(row.response_status, row.response_body, replayed=True)
    if any(row.message_id == str(message_id) for row in rows):
        return Outcome(409, {"detail": "message_id already used for another message"})
    if rows:
        return Outcome(409, {"detail": "this session was already stored under another sequence"})
    return None


def settled_weighings(weighings: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """(code, grams) of the units weighed alone that stay on the bill of a session settled by the cart."""
    return [(code, grams) for _, code, grams in staying_on_bill(weighings, items, lambda w: bool(w.get("alone")))]


def _key_mismatch(message: SessionMessage, cart_id: str, session_id: str, sequence: int) -> str:
    if (message.cart_id, message.session_id, message.sequence) != (cart_id, session_id, sequence):
        return "cart_id, session_id and sequence in the body must match the URL"
    if message.report.session_id != session_id:
        return "report.session_id must match the URL"
    return ""


def _store(db: DbSession, message: SessionMessage, digest: str, now: float) -> Outcome:
    report = message.report
    review = report.review.required
    row = Session(
        cart_id=message.cart_id,
        session_id=message.session_id,
        receipt_id=str(uuid.uuid4()),
        total_cents=report.total_cents,
        report=report.model_dump(mode="json"),
        weighings=[w.model_dump(mode="json") for w in message.weighings],
        evidence=message.evidence.model_dump(mode="json"),
        review_required=review,
        status="needs_review" if review else "charged",
        received_unix=now,
    )
    db.add(row)
    db.flush()
    if not review:
        db.add(Charge(session_pk=row.id, amount_cents=report.total_cents, source="cart", created_unix=now))
        learned = settled_weighings(row.weighings, row.report["items"])
        for code, grams in learned:
            db.add(
                FleetWeighing(
                    cart_id=row.cart_id, session_id=row.session_id, code=code, weight_g=grams, received_unix=now
                )
            )
        keep_latest_fleet(db, (code for code, _grams in learned))
    answer = IngestAnswer(
        receipt_id=row.receipt_id,
        cart_id=message.cart_id,
        session_id=message.session_id,
        sequence=message.sequence,
        status="pending_review" if review else "charged",
        total_cents=report.total_cents,
    ).model_dump(mode="json")
    db.add(
        Message(
            cart_id=message.cart_id,
            session_id=message.session_id,
            sequence=message.sequence,
            message_id=message.message_id,
            topic=TOPIC,
            body_sha256=digest,
            response_status=201,
            response_body=answer,
            received_unix=now,
        )
    )
    db.commit()
    return Outcome(201, answer)
