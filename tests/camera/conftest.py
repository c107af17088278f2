"""Shared fixtures for the camera tests: the real photos (skipped when ../shared is absent)."""

from __future__ import annotations

import pytest

from firmware.camera.reader import BarcodeReader
from tools.barcode_samples import DEFAULT_BARCODES_DIR, load_samples


@pytest.fixture(scope="session")
def samples():
    if not DEFAULT_BARCODES_DIR.is_dir():
        pytest.skip(f"real barcode photos absent: {DEFAULT_BARCODES_DIR} (../shared/data/barcodes)")
    return load_samples()


@pytest.fixture(scope="session")
def reader() -> BarcodeReader:
    return BarcodeReader()
