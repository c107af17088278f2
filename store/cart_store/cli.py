"""`cart-store`: run the service, or administer it (carts, staff, catalog, the OpenAPI document).

cart-store --db URL --host H --port P                 serve (the default command)
cart-store --db URL add-cart [ID...] [--credential F]  register carts; prints their credentials
cart-store --db URL add-staff USER                     add a staff login (password on stdin/tty)
cart-store --db URL import-catalog FILE.csv            new catalog version from a v1 catalog CSV
cart-store openapi                                     print the OpenAPI document
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
import sys
import time
from pathlib import Path

DEFAULT_DB = "sqlite:///cart-store.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cart-store", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"SQLAlchemy URL or SQLite path ({DEFAULT_DB})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.set_defaults(func=serve)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the HTTP service").set_defaults(func=serve)
    cart = sub.add_parser("add-cart", help="register carts (new secrets, or from the carts' credential files)")
    cart.add_argument("cart_ids", nargs="*", metavar="CART_ID", help="a cart to register with a new secret")
    cart.add_argument(
        "--credential", type=Path, action="append", default=[], help="a credential file a cart made (repeatable)"
    )
    cart.set_defaults(func=add_cart)
    staff = sub.add_parser("add-staff", help="add or reset a staff login")
    staff.add_argument("username")
    staff.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    staff.set_defaults(func=add_staff)
    cat = sub.add_parser("import-catalog", help="import a cart-trace v1 catalog CSV as a new version")
    cat.add_argument("csv", type=Path)
    cat.set_defaults(func=import_catalog)
    sub.add_parser("openapi", help="print the OpenAPI document").set_defaults(func=print_openapi)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as exc:
        print(f"cart-store: {exc}", file=sys.stderr)
        return 2


class UserError(Exception):
    pass


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cart_store.app import create_app

    uvicorn.run(create_app(args.db), host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def add_cart(args: argparse.Namespace) -> int:
    from cart_store.auth import CART_ID_RE, decode_secret, new_secret_b64
    from cart_store.db import Cart, open_db

    wanted: list[tuple[str, str]] = [(cart_id, new_secret_b64()) for cart_id in args.cart_ids]
    for path in args.credential:
        try:
            made = json.loads(path.read_text())
            wanted.append((str(made["cart_id"]), str(made["secret_b64"])))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not a cart credential ({exc})") from None
    if not wanted:
        raise UserError("name at least one cart id or --credential file")
    for cart_id, secret_b64 in wanted:
        if not CART_ID_RE.match(cart_id):
            raise UserError(f"cart id {cart_id!r}: letters, digits, . _ - only, at most 64")
        try:
            if len(decode_secret(secret_b64)) != 32:
                raise ValueError("not 32 bytes")
        except ValueError as exc:
            raise UserError(f"cart {cart_id}: the secret is not 32 bytes of base64url ({exc})") from None
    _engine, sessions = open_db(args.db)
    with sessions() as db:
        for cart_id, secret_b64 in wanted:
            row = db.get(Cart, cart_id)
            if row is None:
                db.add(Cart(cart_id=cart_id, secret_b64=secret_b64, created_unix=time.time()))
            else:
                row.secret_b64, row.disabled = secret_b64, False
        db.commit()
    for cart_id, secret_b64 in wanted:
        print(json.dumps({"version": 1, "cart_id": cart_id, "secret_b64": secret_b64}))
    return 0


def add_staff(args: argparse.Namespace) -> int:
    from cart_store.auth import hash_password
    from cart_store.db import Staff, open_db

    if not re.match(r"^[A-Za-z0-9._@-]{1,64}$", args.username):
        raise UserError(f"user name {args.username!r}: letters, digits, . _ @ - only")
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    if len(password) < 10:
        raise UserError("a staff password has at least 10 characters")
    _engine, sessions = open_db(args.db)
    with sessions() as db:
        row = db.get(Staff, args.username)
        if row is None:
            db.add(Staff(username=args.username, password_hash=hash_password(password), created_unix=time.time()))
        else:
            row.password_hash = hash_password(password)
        db.commit()
    print(f"staff {args.username} saved")
    return 0


def import_catalog(args: argparse.Namespace) -> int:
    from cart_store.catalog import CatalogImportError, import_file
    from cart_store.db import open_db

    _engine, sessions = open_db(args.db)
    with sessions() as db:
        try:
            version = import_file(db, args.csv)
        except CatalogImportError as exc:
            raise UserError(str(exc)) from None
    print(f"catalog version {version}")
    return 0


def print_openapi(args: argparse.Namespace) -> int:
    from cart_store.app import create_app

    app = create_app("sqlite://")
    print(json.dumps(app.openapi(), indent=2, sort_keys=True))
    return 0
