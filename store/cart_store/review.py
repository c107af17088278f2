"""The staff review console: log in, see sessions that need a person, their evidence, decide.

Server-rendered HTML (Jinja2, autoescaped). The session cookie is HttpOnly and SameSite=Strict,
and every form carries a CSRF token derived from the session token. Forms are plain
`application/x-www-form-urlencoded`, parsed here with the standard library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from cart_store import auth
from cart_store.db import Decision, Session
from cart_store.decisions import Correction, DecisionError, decide
from cart_store.plot import trace_svg

COOKIE = "cart_store_staff"
MAX_FORM_BYTES = 64 * 1024
ADD_ROWS = 3

router = APIRouter(prefix="/review", include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


def _sessions(request: Request) -> sessionmaker[DbSession]:
    return request.app.state.sessions


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=status)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in parsed.items()}


async def _staff(request: Request) -> tuple[str, str] | None:
    token = request.cookies.get(COOKIE)
    sessions = _sessions(request)

    def find() -> str | None:
        with sessions() as db:
            return auth.staff_for_token(db, token)

    username = await run_in_threadpool(find)
    return (username, auth.csrf_token(token)) if username and token else None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/review/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page() -> HTMLResponse:
    return _render("login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    sessions = _sessions(request)

    def check() -> str | None:
        with sessions() as db:
            return auth.login(db, form.get("username", ""), form.get("password", ""))

    token = await run_in_threadpool(check)
    if token is None:
        return _render("login.html", status=401, error="Wrong user name or password.")
    response = RedirectResponse("/review", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(auth.STAFF_SESSION_S),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/review",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    sessions = _sessions(request)

    def drop() -> None:
        with sessions() as db:
            auth.logout(db, token)

    await run_in_threadpool(drop)
    response = _to_login()
    response.delete_cookie(COOKIE, path="/review")
    return response


@router.get("", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    staff = await _staff(request)
    if staff is None:
        return _to_login()
    sessions = _sessions(request)

    def load() -> tuple[list[Session], list[Session]]:
        with sessions() as db:
            waiting = db.scalars(
                select(Session).where(Session.status == "needs_review").order_by(Session.received_unix)
            ).all()
            done = db.scalars(
                select(Session).where(Session.status == "reviewed").order_by(Session.id.desc()).limit(20)
            ).all()
            return list(waiting), list(done)

    waiting, done = await run_in_threadpool(load)
    return _render("queue.html", staff=staff[0], csrf=staff[1], waiting=waiting, done=done)


def _detail(db: DbSession, pk: int) -> dict[str, Any] | None:
    row = db.get(Session, pk)
    if row is None:
        return None
    decision = db.scalar(select(Decision).where(Decision.session_pk == pk))
    alerts = []
    for alert in row.evidence.get("alerts", []):
        trace = alert.get("trace")
        svg = (
            trace_svg(
                trace["t0"], trace["sps"], trace["values_g"], alert["t"], f"{alert['kind']} at {alert['t']:.1f} s"
            )
            if trace
            else ""
        )
        alerts.append({**alert, "svg": svg})
    return {
        "row": row,
        "items": row.report["items"],
        "alerts": alerts,
        "frames": row.evidence.get("frames", []),
        "weighings": list(enumerate(row.weighings)),
        "decision": decision,
        "add_rows": range(ADD_ROWS),
    }


@router.get("/sessions/{pk}", response_class=HTMLResponse)
async def session_page(pk: int, request: Request) -> Response:
    staff = await _staff(request)
    if staff is None:
        return _to_login()
    sessions = _sessions(request)

    def load() -> dict[str, Any] | None:
        with sessions() as db:
            return _detail(db, pk)

    context = await run_in_threadpool(load)
    if context is None:
        return _render("message.html", status=404, staff=staff[0], message="No such session.")
    return _render("session.html", staff=staff[0], csrf=staff[1], **context)


def parse_correction(form: dict[str, str]) -> Correction:
    correction = Correction()
    for key, value in form.items():
        value = value.strip()
        if key.startswith("qty_") and value != "":
            correction.line_qty[int(key[4:])] = int(value)
        elif key.startswith("ident_") and value:
            correction.identified[int(key[6:])] = value
    for n in range(ADD_ROWS):
        code = form.get(f"add_code_{n}", "").strip()
        if code:
            qty = int(form.get(f"add_qty_{n}", "").strip() or "1")
            weight = form.get(f"add_weight_{n}", "").strip()
            correction.added.append((code, qty, float(weight) if weight else None))
    return correction


@router.post("/sessions/{pk}/decision")
async def post_decision(pk: int, request: Request) -> Response:
    staff = await _staff(request)
    if staff is None:
        return _to_login()
    form = await _form(request)
    if form.get("csrf") != staff[1]:
        return _render("message.html", status=403, staff=staff[0], message="Form expired: reload the page.")
    action = form.get("action", "")
    sessions = _sessions(request)

    def apply() -> tuple[int, str]:
        with sessions() as db:
            try:
                correction = parse_correction(form) if action == "correct" else None
            except ValueError:
                return 400, "Quantities are whole numbers and weights are grams."
            try:
                decide(db, pk, staff[0], action, correction, note=form.get("note", ""))
            except DecisionError as exc:
                return 409 if "already" in str(exc) or "not waiting" in str(exc) else 400, str(exc)
            return 303, ""

    status, error = await run_in_threadpool(apply)
    if status == 303:
        return RedirectResponse(f"/review?decided={pk}", status_code=303)

    def reload() -> dict[str, Any] | None:
        with sessions() as db:
            return _detail(db, pk)

    context = await run_in_threadpool(reload)
    if context is None:
        return _render("message.html", status=404, staff=staff[0], message="No such session.")
    return _render("session.html", status=status, staff=staff[0], csrf=staff[1], error=error, **context)
