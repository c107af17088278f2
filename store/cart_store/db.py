"""The store's tables (SQLAlchemy 2) and the engine: SQLite by default, PostgreSQL by URL.

Exactly-once rests on unique constraints, not on luck: one message per (cart, session, sequence),
one session per (cart, session), one charge per session, one decision per session. Every write of
an ingest happens in one transaction, so a server killed with -9 keeps all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.orm import Session as DbSession

# A cart keeps a product's latest 16 weighings (firmware/core/weightbook.py, KEPT); the store keeps
# twice that (a cart is not sent its own), so a new cart learns the store in pages, not its history
# (tests/store/test_api.py checks the two stay tied).
FLEET_KEPT_PER_CODE = 32


class Base(DeclarativeBase):
    pass


class Cart(Base):
    __tablename__ = "carts"
    cart_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_b64: Mapped[str] = mapped_column(String(128))  # the HMAC key; the server must hold it
    created_unix: Mapped[float] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Nonce(Base):
    """Nonces seen inside the freshness window: a captured request cannot be played again."""

    __tablename__ = "nonces"
    cart_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_unix: Mapped[float] = mapped_column(Float, index=True)


class Staff(Base):
    __tablename__ = "staff"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_unix: Mapped[float] = mapped_column(Float)


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("staff.username"))
    expires_unix: Mapped[float] = mapped_column(Float)


class CatalogVersion(Base):
    __tablename__ = "catalog_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_unix: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(200), default="")


class CatalogItem(Base):
    __tablename__ = "catalog_items"
    code: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    sold_by: Mapped[str] = mapped_column(String(8), default="each")
    weight_g: Mapped[float | None] = mapped_column(Float, nullable=True)
    weight_sd_g: Mapped[float | None] = mapped_column(Float, nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, index=True)  # the catalog version that last changed it


class Message(Base):
    """One cart message as received: the idempotency record and the answer a replay gets."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("cart_id", "session_id", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_unix: Mapped[float] = mapped_column(Float)
    replays: Mapped[int] = mapped_column(Integer, default=0)


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("cart_id", "session_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    receipt_id: Mapped[str] = mapped_column(String(36), unique=True)
    total_cents: Mapped[int] = mapped_column(Integer)  # what the cart billed
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    weighings: Mapped[list[Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    review_required: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)  # charged | needs_review | reviewed
    received_unix: Mapped[float] = mapped_column(Float)


class Charge(Base):
    __tablename__ = "charges"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.id"), unique=True)
    amount_cents: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # cart | review
    created_unix: Mapped[float] = mapped_column(Float)


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_pk: Mapped[int] = mapped_column(ForeignKey("sessions.id"), unique=True)
    username: Mapped[str] = mapped_column(ForeignKey("staff.username"))
    action: Mapped[str] = mapped_column(String(16))  # approve | correct
    items: Mapped[list[Any]] = mapped_column(JSON)
    total_cents: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_unix: Mapped[float] = mapped_column(Float)


class ConfirmedWeighing(Base):
    """A weight a person confirmed belongs to one unit of a product: food for weight learning."""

    __tablename__ = "confirmed_weighings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    code: Mapped[str] = mapped_column(String(14))
    weight_g: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))  # approved | identified
    decided_unix: Mapped[float] = mapped_column(Float)


class FleetWeighing(Base):
    """One unit a cart weighed alone, on the bill of a session it settled without review or that staff
    approved on review: what every other cart of the store learns product weights from (most useful
    where the catalog gives no weight)."""

    __tablename__ = "fleet_weighings"
    __table_args__ = (Index("fleet_weighings_by_code", "code", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cart_id: Mapped[str] = mapped_column(String(64), index=True)
    session_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(14))
    weight_g: Mapped[float] = mapped_column(Float)
    received_unix: Mapped[float] = mapped_column(Float)


def keep_latest_fleet(db: DbSession, codes: Iterable[str]) -> None:
    """Only the latest `FLEET_KEPT_PER_CODE` fleet weighings of each of these codes are kept: older
    ones no cart would keep (ids only grow, so a cart polling from an older id just skips them)."""
    db.flush()
    for code in sorted(set(codes)):
        latest = (
            select(FleetWeighing.id)
            .where(FleetWeighing.code == code)
            .order_by(FleetWeighing.id.desc())
            .limit(FLEET_KEPT_PER_CODE)
        )
        db.execute(delete(FleetWeighing).where(FleetWeighing.code == code, FleetWeighing.id.not_in(latest)))


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; a bare path means a SQLite file."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return f"sqlite:///{url}"
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            dbapi_connection.isolation_level = None  # SQLAlchemy's begin event below opens transactions

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # IMMEDIATE takes the write lock up front: a deferred transaction that later writes can
            # fail at once with SQLITE_BUSY under WAL instead of waiting for the other writer
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def open_db(url: str) -> tuple[Engine, sessionmaker[Any]]:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with engine.begin() as connection:  # a store database made before the index was declared
        connection.execute(text("CREATE INDEX IF NOT EXISTS fleet_weighings_by_code ON fleet_weighings (code, id)"))
    return engine, sessionmaker(engine, expire_on_commit=False)
