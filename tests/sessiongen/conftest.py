"""Fixtures for the session generator's tests: one store built from the shared data."""

from __future__ import annotations

import pytest

from tests.conftest import shared_path
from tools.sessiongen import Store, build_store


@pytest.fixture(scope="session")
def store() -> Store:
    off = shared_path("data", "catalog", "off_products_slim.csv")
    plu = shared_path("data", "plu", "plu_codes.json")
    return build_store(11, off, plu)
