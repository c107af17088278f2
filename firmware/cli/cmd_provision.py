"""`cartctl provision --cart-id ID --store-url URL [--config FILE] [--secrets FILE] [--rotate]`: write
the cart's id and store URL into cartd's config and its store credential into a separate file with
mode 0600. The secret is never printed. Exit codes: 0 done, 1 refused (the reason on stderr)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    from firmware.tech.paths import DEFAULT_CONFIG, DEFAULT_SECRETS

    parser = subparsers.add_parser("provision", help="set the cart's id, store URL and credential")
    parser.add_argument("--cart-id", required=True, help="the cart's id, as the store knows it")
    parser.add_argument("--store-url", required=True, help="the store's base URL (https://...)")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), help=f"cartd config (default {DEFAULT_CONFIG})")
    parser.add_argument(
        "--secrets", default=str(DEFAULT_SECRETS), help=f"credential file, mode 0600 (default {DEFAULT_SECRETS})"
    )
    parser.add_argument("--rotate", action="store_true", help="make a new secret even if one exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from firmware.tech.provision import ProvisionError, provision

    try:
        result = provision(args.config, args.secrets, args.cart_id, args.store_url, rotate=args.rotate)
    except (ProvisionError, OSError) as exc:
        print(f"cartctl provision: {exc}", file=sys.stderr)
        return 1
    print(f"config: {result.config_path} ([cart] id = {result.cart_id}, [store] url = {result.store_url})")
    if result.new_secret:
        print(f"credential: {result.secrets_path} (mode 0600, new secret)")
        print(f"register it at the store: cart-store add-cart {result.cart_id} --credential {result.secrets_path}")
    else:
        print(f"credential: {result.secrets_path} (mode 0600, secret kept)")
    return 0
