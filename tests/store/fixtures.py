"""Fixtures shared by tests/store and tests/sync: the store on SQLite and on a throwaway PostgreSQL."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
try:
    import cart_store  # noqa: F401
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(REPO / "store"))

from tools.store_harness import CATALOG_CSV, PgCluster  # noqa: E402

_names = itertools.count(1)
STORE_NEEDS = ("fastapi", "sqlalchemy", "jinja2", "uvicorn")


@pytest.fixture
def store_deps() -> None:
    """Skip, naming the package, when cart-store's own dependencies are not installed."""
    missing = [name for name in STORE_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"cart-store needs {', '.join(missing)}: pip install -e store")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    if PgCluster.find_bin() is None:
        pytest.skip("PostgreSQL not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql")
    cluster = PgCluster(fsync=False)
    try:
        cluster.start()
    except (RuntimeError, OSError, LookupError) as exc:
        cluster.stop()
        pytest.skip(f"could not start a throwaway PostgreSQL cluster: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, store_deps: None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"store_{next(_names)}_{int(time.time() * 1000) % 10**8}")


@pytest.fixture
def sqlite_url(tmp_path: Path, store_deps: None) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def add_cart(app: Any, cart_id: str, secret_b64: str) -> None:
    from cart_store.db import Cart

    with app.state.sessions() as db:
        db.add(Cart(cart_id=cart_id, secret_b64=secret_b64, created_unix=time.time()))
        db.commit()


def add_staff(app: Any, username: str, password: str) -> None:
    from cart_store.auth import hash_password
    from cart_store.db import Staff

    with app.state.sessions() as db:
        db.add(Staff(username=username, password_hash=hash_password(password), created_unix=time.time()))
        db.commit()


def import_catalog(app: Any, text: str = CATALOG_CSV) -> int:
    from cart_store.catalog import import_rows, parse_csv

    with app.state.sessions() as db:
        return import_rows(db, parse_csv(text))
