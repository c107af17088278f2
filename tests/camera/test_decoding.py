"""The per-image read on real photos, code normalisation, and GS1 2D codes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import zxingcpp

from firmware.camera.decoders import Decoded, ZxingDecoder, normalise_linear
from firmware.camera.gs1 import gtin_from_gs1
from firmware.camera.reader import Attempt, BarcodeReader


def _pick(samples, group, name):
    return next(s for s in samples if s.group == group and s.image.name == name)


@pytest.mark.parametrize(
    ("group", "name", "text", "symbology"),
    [
        ("zxing-cpp/ean13-1", "4.webp", "5449000039231", "ean13"),
        ("zxing-cpp/ean8-1", "4.webp", "67678983", "ean8"),
        ("zxing-cpp/upce-1", "1.png", "01234565", "upce"),
        ("zxing-cpp/upca-1", "2.webp", "0036602301467", "ean13"),
        ("zxing-cpp/ean13-extension-1", "2.webp", "9780884271789", "ean13"),  # add-on dropped
    ],
)
def test_known_photos_read_right(samples, reader, group, name, text, symbology):
    sample = _pick(samples, group, name)
    result = reader.read(cv2.imread(str(sample.image)))
    assert (result.code, result.symbology) == (text, symbology)
    assert result.key == sample.expected_key


def test_read_rate_beats_zxing_alone_without_misreads(samples, reader):
    subset = samples[::4]  # a spread over every set, to keep the test fast
    ok = wrong = zx_ok = 0
    zxing = ZxingDecoder()
    for sample in subset:
        image = cv2.imread(str(sample.image))
        key = reader.read(image).key
        ok += key == sample.expected_key
        wrong += key is not None and key != sample.expected_key
        zx_ok += any(d.key == sample.expected_key for d in zxing.decode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)))
    assert wrong == 0
    assert ok > zx_ok
    assert ok / len(subset) >= 0.8


class _LyingDecoder:
    """Reads a fixed, valid but wrong code on every call: the misread guard must not pass it."""

    name = "liar"

    def __init__(self, text: str = "4006381333931") -> None:
        self.text = text

    def decode(self, gray, with_2d=False):
        return [Decoded(self.text, "ean13", "0" + self.text, self.name)]


def test_single_unconfirmed_read_is_not_returned():
    reader = BarcodeReader(cascade=[Attempt("liar", "liar")], decoders={"liar": _LyingDecoder()})
    result = reader.read(np.full((50, 50), 255, np.uint8))
    assert result.code is None
    assert result.candidates[0].votes == 1  # seen, kept as a candidate, not passed on


def test_conflicting_confirmed_reads_give_no_code():
    decoders = {"a": _LyingDecoder("4006381333931"), "b": _LyingDecoder("5449000039231")}
    cascade = [Attempt("a1", "a"), Attempt("b1", "b"), Attempt("a2", "a"), Attempt("b2", "b")]
    reader = BarcodeReader(cascade=cascade, decoders=decoders)
    assert reader.read(np.zeros((20, 20), np.uint8)).code == "4006381333931"  # a reached 2 first
    reader = BarcodeReader(cascade=cascade, decoders=decoders, votes_needed=3)
    assert reader.read(np.zeros((20, 20), np.uint8)).code is None  # 2 against 2: no answer


@pytest.mark.parametrize(
    ("text", "symbology", "expected"),
    [
        ("4006381333931", "ean13", ("4006381333931", "ean13", "04006381333931")),
        ("4006381333932", "ean13", None),  # check digit wrong
        ("036000291452", "upca", ("036000291452", "upca", "00036000291452")),
        ("400638133393112345", "ean13", ("4006381333931", "ean13", "04006381333931")),  # add-on
        ("01234565", "upce", ("01234565", "upce", "00012345000065")),
        ("abc", "ean13", None),
    ],
)
def test_normalise_linear(text, symbology, expected):
    decoded = normalise_linear(text, symbology, "test")
    got = None if decoded is None else (decoded.text, decoded.symbology, decoded.key)
    assert got == expected


@pytest.mark.parametrize(
    ("text", "is_gs1", "gtin"),
    [
        ("(01)09506000134352(17)201225(10)ABC", False, "09506000134352"),
        ("0109506000134352\x1d10ABC", True, "09506000134352"),
        ("0109506000134352", False, None),  # not flagged GS1: just digits
        ("(01)09506000134353", False, None),  # bad check digit
        ("https://id.gs1.org/01/09506000134352/10/ABC", False, "09506000134352"),
        ("https://example.com/01/9506000134352?x=1", False, "09506000134352"),
        ("https://example.com/product/42", False, None),
    ],
)
def test_gtin_from_gs1(text, is_gs1, gtin):
    assert gtin_from_gs1(text, is_gs1) == gtin


@pytest.mark.parametrize("fmt", [zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.QRCode])
def test_2d_code_with_gtin_is_read(reader, fmt):
    barcode = zxingcpp.create_barcode("(01)09506000134352(17)201225", fmt)
    image = np.array(zxingcpp.write_barcode_to_image(barcode, scale=4))
    image = cv2.copyMakeBorder(image, 30, 30, 30, 30, cv2.BORDER_CONSTANT, value=255)
    result = reader.read(image)
    assert result.key == "09506000134352"
    assert result.symbology in ("gs1-datamatrix", "gs1-qr")


def test_bad_image_input_is_a_clear_error(reader):
    with pytest.raises(ValueError, match="8-bit"):
        reader.read(np.zeros((10, 10), np.float32))
    with pytest.raises(ValueError, match="non-empty"):
        reader.read(np.zeros((0, 0), np.uint8))
