"""`cartctl diag [--out FILE] [--config FILE] [--secrets FILE] [--port P] [--log FILE ...]`: write a
support bundle (tar.gz, mode 0600): the config without secrets, versions, recent journal entries,
the state folder's storage (writable, room left, journal and weight book sizes), the scale link's
figures, the calibration and logs. The credential is never copied and every text is scrubbed; a
bundle that would still hold the secret is refused. Exit codes: 0 written, 1 refused.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    from firmware.tech.paths import DEFAULT_CONFIG, DEFAULT_SECRETS

    parser = subparsers.add_parser("diag", help="write a support bundle (config without secrets, journal, logs)")
    parser.add_argument("--out", help="bundle path (default ./smartcart-diag-<cart>-<time>.tar.gz)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help=f"cartd config (default {DEFAULT_CONFIG})")
    parser.add_argument("--secrets", default=str(DEFAULT_SECRETS), help="the credential file (only its owner goes in)")
    parser.add_argument("--journal", help="journal database (default: <state_dir>/journal.db)")
    parser.add_argument("--entries", type=int, default=500, help="recent journal entries to include")
    parser.add_argument("--port", help="scale port to take link figures from (default: the config's)")
    parser.add_argument("--link-seconds", type=float, default=3.0, help="how long to watch the scale link")
    parser.add_argument("--log", action="append", default=[], help="extra log file to include (repeatable)")
    parser.add_argument("--no-system-logs", action="store_true", help="do not ask journalctl for cartd's logs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tomllib

    from firmware.daemon.config import ConfigError, load_config
    from firmware.scale.calibration import default_path
    from firmware.tech import diag
    from firmware.tech.selftest import check_storage

    config_path = Path(args.config)
    info, secrets = diag.credential_info(Path(args.secrets))
    bundle = diag.Bundle(secrets=secrets)
    bundle.add_json("credential.json", info)
    config = None
    if config_path.exists():
        text = config_path.read_text(encoding="utf-8", errors="replace")
        bundle.add_text("config/cartd.toml", text)
        try:
            config = load_config(config_path)
        except (ConfigError, tomllib.TOMLDecodeError) as exc:
            bundle.notes.append(f"config does not load: {exc}")
    else:
        bundle.notes.append(f"no config at {config_path}")
    calibration = Path(config.scale.calibration) if config and config.scale.calibration else default_path()
    if calibration.exists():
        bundle.add_text("config/calibration.toml", calibration.read_text(encoding="utf-8", errors="replace"))
    bundle.add_json("versions.json", diag.versions())
    journal = Path(args.journal) if args.journal else (config.state_dir if config else Path("/var/lib/smartcart"))
    if journal.is_dir():
        journal = journal / "journal.db"
    bundle.add_json("journal.json", diag.journal_recent(journal, max(0, args.entries)))
    storage = check_storage(journal.parent)  # the SD card: writable, room left, journal and book sizes
    bundle.add_json("storage.json", {"status": storage.status, "detail": storage.detail, **storage.figures})
    port = args.port or (config.scale.port if config else "")
    if port:
        bundle.add_json("link.json", diag.link_figures(port, args.link_seconds))
    if not args.no_system_logs:
        logs = diag.system_logs()
        if logs is not None:
            bundle.add_text("logs/journalctl.txt", logs)
    for name in args.log:
        path = Path(name)
        try:
            bundle.add_text(f"logs/{path.name}", diag.tail(path))
        except OSError as exc:
            bundle.notes.append(f"log {path}: {exc.strerror}")
    bundle.add_json(
        "bundle.json", {"created_unix": time.time(), "notes": bundle.notes, "files": sorted(bundle.members)}
    )
    cart = (config.cart.id if config else None) or info.get("cart_id") or "cart"
    out = Path(args.out or f"smartcart-diag-{cart}-{time.strftime('%Y%m%dT%H%M%S')}.tar.gz")
    try:
        path = bundle.write(out)
    except (diag.DiagError, OSError) as exc:
        print(f"cartctl diag: {exc}", file=sys.stderr)
        return 1
    print(f"support bundle: {path} ({path.stat().st_size} bytes, {len(bundle.members)} files)")
    for note in bundle.notes:
        print(f"note: {note}")
    return 0
