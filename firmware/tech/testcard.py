"""The self-test card: an EAN-13 in the restricted-circulation range (prefix 200, never a real
product), rendered by zxing-cpp's writer with a caption. `cartctl selftest --write-card FILE` writes
it for printing; the camera check passes when the camera reads exactly this code."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from firmware.core.gtin import check_digit

TEST_CARD_BODY = "200000000777"  # prefix 200: in-store use only, so no shelf item carries it
TEST_CARD_CODE = TEST_CARD_BODY + str(check_digit(TEST_CARD_BODY))


def render_card(code: str = TEST_CARD_CODE, module_px: int = 4, margin_px: int = 60) -> np.ndarray:
    """Greyscale card: the barcode with its quiet zones, a white margin and a caption."""
    barcode = zxingcpp.create_barcode(code, zxingcpp.BarcodeFormat.EAN13)
    bars = np.array(zxingcpp.write_barcode_to_image(barcode, scale=module_px, add_hrt=True))
    height, width = bars.shape[:2]
    card = np.full((height + 2 * margin_px + 40, width + 2 * margin_px), 255, np.uint8)
    card[margin_px : margin_px + height, margin_px : margin_px + width] = bars
    cv2.putText(
        card,
        f"SMART CART SELF-TEST {code}",
        (margin_px, card.shape[0] - margin_px // 2),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.6,
        0,
        1,
        cv2.LINE_AA,
    )
    return card


def write_card(path: str | Path, code: str = TEST_CARD_CODE) -> Path:
    path = Path(path)
    if not cv2.imwrite(str(path), render_card(code)):
        raise OSError(f"cannot write an image to {path} (use .png)")
    return path
