"""Shared fixtures: where the shared data lives, and skipping cleanly when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (clone the repo beside ../shared to run this test)")
    return path


@pytest.fixture
def example_trace() -> Path:
    return shared_path("spec", "example")
