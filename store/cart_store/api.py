"""The cart-facing HTTP API (`/v1/...`): catalog deltas, session ingest, receipts, confirmed weighings,
and the fleet's weighings.

Every route here is for signed cart requests only (see `auth.py`); a cart reaches only its own
sessions, receipts and weighings (another cart's id in the path gets 403). The fleet's weighings are
the one thing other carts give it: product and grams, never which cart or session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from cart_store import catalog
from cart_store.auth import SCHEME, AuthError, verify_cart_request
from cart_store.db import Charge, ConfirmedWeighing, Decision, FleetWeighing, Session
from cart_store.ingest import ingest
from cart_store.schemas import CatalogDelta, ConfirmedWeighings, FleetWeighings, IngestAnswer, Item, Receipt

MAX_BODY_BYTES = 8 * 1024 * 1024
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "unsigned, badly signed, stale or replayed request"},
    403: {"description": "the path names another cart"},
}

router = APIRouter(prefix="/v1", tags=["carts"])


@dataclass(frozen=True, slots=True)
class CartCaller:
    cart_id: str
    body: bytes


def db_factory(request: Request) -> sessionmaker[DbSession]:
    return request.app.state.sessions


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPException(413, f"body larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def cart_caller(request: Request) -> CartCaller:
    """Dependency: the signed caller, or 401 before anything else about the request is looked at."""
    body = await read_body(request)
    query = request.scope.get("query_string", b"")
    target = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    if query:
        target += "?" + query.decode("latin-1")
    headers = {key.lower(): value for key, value in request.headers.items()}
    sessions = db_factory(request)

    def verify() -> str:
        with sessions() as db:
            return verify_cart_request(db, headers, request.method, target, body)

    try:
        cart_id = await run_in_threadpool(verify)
    except AuthError as exc:
        extra = {"WWW-Authenticate": SCHEME}
        if exc.server_time is not None:
            extra["X-Store-Time"] = f"{exc.server_time:.3f}"
        raise HTTPException(exc.status, exc.reason, headers=extra) from None
    return CartCaller(cart_id, body)


Caller = Annotated[CartCaller, Depends(cart_caller)]


def own(caller: CartCaller, cart_id: str) -> None:
    if caller.cart_id != cart_id:
        raise HTTPException(403, "a cart may only reach its own sessions")


@router.put(
    "/carts/{cart_id}/sessions/{session_id}/messages/{sequence}",
    status_code=201,
    summary="Deliver a session message; idempotent on (cart, session, sequence)",
    responses={
        **ERRORS,
        201: {
            "model": IngestAnswer,
            "description": "stored; a replay of a stored message gets the same answer, with the header"
            " Idempotent-Replayed: true",
        },
        409: {"description": "this key was stored with another body, or the message id is reused"},
        413: {"description": "body too large"},
        422: {"description": "body is not a valid session.closed/1 message"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionMessage"}}},
        }
    },
)
def put_message(
    cart_id: PathId,
    session_id: PathId,
    sequence: Annotated[int, Path(ge=1, le=1_000_000)],
    caller: Caller,
    request: Request,
) -> JSONResponse:
    own(caller, cart_id)
    outcome = ingest(db_factory(request), cart_id, session_id, sequence, caller.body)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.get("/catalog", response_model=CatalogDelta, responses=ERRORS, summary="Catalog changes since a version")
def get_catalog(caller: Caller, request: Request, since: Annotated[int, Query(ge=0)] = 0) -> CatalogDelta:
    with db_factory(request)() as db:
        return catalog.delta(db, since)


@router.get(
    "/carts/{cart_id}/sessions/{session_id}/receipt",
    response_model=Receipt,
    responses={**ERRORS, 404: {"description": "no such session for this cart"}},
    summary="The receipt of a stored session",
)
def get_receipt(cart_id: PathId, session_id: PathId, caller: Caller, request: Request) -> Receipt:
    own(caller, cart_id)
    with db_factory(request)() as db:
        row = db.scalar(select(Session).where(Session.cart_id == cart_id, Session.session_id == session_id))
        if row is None:
            raise HTTPException(404, "no such session for this cart")
        charge = db.scalar(select(Charge).where(Charge.session_pk == row.id))
        decision = db.scalar(select(Decision).where(Decision.session_pk == row.id))
        items = decision.items if decision else row.report["items"]
        return Receipt(
            receipt_id=row.receipt_id,
            cart_id=row.cart_id,
            session_id=row.session_id,
            status="charged" if charge else "pending_review",
            cart_total_cents=row.total_cents,
            charged_cents=charge.amount_cents if charge else None,
            items=[Item.model_validate(item) for item in items],
            decided_by_staff=decision is not None,
        )


@router.get(
    "/carts/{cart_id}/fleet-weighings",
    response_model=FleetWeighings,
    responses=ERRORS,
    summary="Units the store's other carts weighed alone in sessions settled or reviewed, after id `since`",
)
def get_fleet_weighings(
    cart_id: PathId,
    caller: Caller,
    request: Request,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> FleetWeighings:
    own(caller, cart_id)
    page = _weighings_after(
        request,
        FleetWeighing,
        FleetWeighing.cart_id != cart_id,  # its own it learned when it settled them
        since,
        limit,
        lambda r: {"id": r.id, "code": r.code, "weight_g": r.weight_g},
    )
    return FleetWeighings.model_validate(page)


@router.get(
    "/carts/{cart_id}/confirmed-weighings",
    response_model=ConfirmedWeighings,
    responses=ERRORS,
    summary="Weighings staff confirmed, after id `since` (poll with the last next_since)",
)
def get_confirmed_weighings(
    cart_id: PathId,
    caller: Caller,
    request: Request,
    since: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> ConfirmedWeighings:
    own(caller, cart_id)
    page = _weighings_after(
        request,
        ConfirmedWeighing,
        ConfirmedWeighing.cart_id == cart_id,
        since,
        limit,
        lambda r: {
            "id": r.id,
            "session_id": r.session_id,
            "code": r.code,
            "weight_g": r.weight_g,
            "source": r.source,
            "decided_unix": r.decided_unix,
        },
    )
    return ConfirmedWeighings.model_validate(page)


def _weighings_after(
    request: Request, table: Any, which: Any, since: int, limit: int, row: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One page of a weighings table after id `since`, oldest first, and the id to poll from next."""
    with db_factory(request)() as db:
        rows = db.scalars(select(table).where(which, table.id > since).order_by(table.id).limit(limit)).all()
        out = [row(r) for r in rows]
    return {"weighings": out, "next_since": out[-1]["id"] if out else since}
