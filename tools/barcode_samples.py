"""The real barcode photos under `../shared/data/barcodes` and what each one should read as.

Two layouts are understood (see `../shared/data/README.md`):

- `zxing-cpp/<set>/<name>.<webp|png|jpg>` with the expected text in `<name>.txt` beside it (the
  `<name>.result.txt` key=value files only carry a symbology identifier and are not needed);
- `quaggajs/<folder>/<file>` with expected values in `quaggajs/ground_truth.json`.

Expected texts are the main code, sometimes followed by a 2- or 5-digit add-on; every sample is
reduced to the GTIN-14 key of its main code (`firmware.core.gtin`), which is what the cart uses,
so a UPC-A read as 12 digits and the same code as 13 digits compare equal.

Two expected values in the data set contradict the digits printed under the bars in the photo
itself (checked by eye); `ERRATA` corrects them and keeps the given value in `given_key`, so a
benchmark can report figures both ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from firmware.core.gtin import CodeError, expand_upce, gtin14

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BARCODES_DIR = REPO_ROOT.parent / "shared" / "data" / "barcodes"
IMAGE_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg")

# (group, file name) -> the code printed in the photo (human-readable digits), and why.
ERRATA: dict[tuple[str, str], tuple[str, str]] = {
    ("zxing-cpp/ean13-2", "23.webp"): ("9784872348880", "photo shows 9784872348880; .txt says 9780804816632"),
    ("quaggajs/ean_extended", "image-006.jpg"): (
        "419056690690101",
        "photo shows 4 190566 906901 + add-on 01; ground_truth.json says 412056690699101",
    ),
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One photo and the canonical key (GTIN-14 of the main code) it should read as."""

    image: Path
    expected_text: str  # as the data set gives it (may carry an add-on)
    expected_key: str
    group: str  # e.g. "zxing-cpp/upce-2", "quaggajs/upc_e"
    hard: bool = False  # marked as skipped upstream
    given_key: str = ""  # the data set's own value when ERRATA corrects it, else expected_key

    @property
    def corrected(self) -> bool:
        return self.given_key != self.expected_key


def main_code_key(expected: str, upce: bool = False) -> str:
    """GTIN-14 of the main code in a data set's expected text (add-on digits dropped)."""
    text = expected.strip()
    if not text.isdigit():
        raise CodeError(f"expected text must be digits, got {text!r}")
    if upce and len(text) == 8:
        return gtin14(expand_upce(text))
    if len(text) in (8, 12, 13):
        return gtin14(text)
    for main_len in (13, 12):  # main code followed by a 2- or 5-digit add-on
        if len(text) - main_len in (2, 5):
            return gtin14(text[:main_len])
    raise CodeError(f"cannot tell the main code in {text!r}")


def _zxing_samples(root: Path) -> Iterator[Sample]:
    for image in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        txt = image.with_suffix(".txt")
        if not txt.is_file():
            continue
        text = txt.read_text(encoding="utf-8").strip()
        group = f"zxing-cpp/{image.parent.name}"
        yield _sample(image, text, group, upce="upce" in group)


def _quagga_samples(root: Path) -> Iterator[Sample]:
    entries = json.loads((root / "ground_truth.json").read_text(encoding="utf-8"))
    for entry in entries:
        image = root / entry["file"]
        if not image.is_file():
            continue
        text = str(entry["expected_text"])
        upce = entry.get("symbology") == "upc_e"
        group = f"quaggajs/{image.parent.name}"
        yield _sample(image, text, group, upce, bool(entry.get("disabled_in_upstream_test")))


def _sample(image: Path, text: str, group: str, upce: bool, hard: bool = False) -> Sample:
    given = main_code_key(text, upce)
    fix = ERRATA.get((group, image.name))
    expected = main_code_key(fix[0], upce) if fix else given
    return Sample(image, text, expected, group, hard, given)


def load_samples(barcodes_dir: Path = DEFAULT_BARCODES_DIR) -> list[Sample]:
    """Every photo with a known expected value; raises FileNotFoundError if the folder is absent."""
    if not barcodes_dir.is_dir():
        raise FileNotFoundError(f"barcode photos not found at {barcodes_dir}")
    samples: list[Sample] = []
    if (barcodes_dir / "zxing-cpp").is_dir():
        samples.extend(_zxing_samples(barcodes_dir / "zxing-cpp"))
    if (barcodes_dir / "quaggajs" / "ground_truth.json").is_file():
        samples.extend(_quagga_samples(barcodes_dir / "quaggajs"))
    return samples
