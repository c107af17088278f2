"""`cartctl decode IMAGE... [--json]`: read the barcode in each image with the camera pipeline's
per-image read (`firmware.camera.reader.BarcodeReader`, same cascade and vote).

One line per image; with `--json` each line is
`{"image": ..., "code": ... or null, "symbology": ..., "ms": ...}` (plus `error` when the image
cannot be read). Exit code 0 when every image was readable as a file, 2 otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from firmware.camera.reader import BarcodeReader
from firmware.camera.sources import SourceError, load_image


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("decode", help="read the barcode in image files (camera pipeline's read)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, WebP)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reader = BarcodeReader()
    status = 0
    for name in args.images:
        record: dict[str, object] = {"image": name, "code": None, "symbology": None, "ms": 0.0}
        try:
            result = reader.read(load_image(Path(name)))
        except (SourceError, ValueError) as exc:
            record["error"] = str(exc)
            status = 2
        else:
            record.update(code=result.code, symbology=result.symbology, ms=round(result.ms, 2))
        if args.json:
            print(json.dumps(record), flush=True)
        elif "error" in record:
            print(f"{name}: error: {record['error']}", flush=True)
        else:
            print(f"{name}: {record['code'] or '-'} {record['symbology'] or ''} {record['ms']} ms", flush=True)
    return status
