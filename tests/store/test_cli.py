"""`cart-store` admin commands: clear errors on bad input, carts and staff saved, catalog imported."""

from __future__ import annotations

import json
from pathlib import Path

from tools.store_harness import CATALOG_CSV
from tools.store_harness import run_store_cli as cart_store


def test_admin_commands(tmp_path: Path, store_deps: None) -> None:
    db = str(tmp_path / "store.db")  # a bare path means SQLite
    made = cart_store(db, "add-cart", "cart-1")
    assert made.returncode == 0
    credential = json.loads(made.stdout)
    assert credential["cart_id"] == "cart-1" and len(credential["secret_b64"]) == 43
    bad_id = cart_store(db, "add-cart", "../x")
    assert bad_id.returncode == 2 and "cart id" in bad_id.stderr
    (tmp_path / "cred.json").write_text(json.dumps({"cart_id": "cart-2", "secret_b64": "AAAA"}))
    short = cart_store(db, "add-cart", "--credential", str(tmp_path / "cred.json"))
    assert short.returncode == 2 and "32 bytes" in short.stderr
    assert cart_store(db, "add-cart").returncode == 2
    weak = cart_store(db, "add-staff", "pat", "--password-stdin", stdin="short\n")
    assert weak.returncode == 2 and "10 characters" in weak.stderr
    assert cart_store(db, "add-staff", "pat", "--password-stdin", stdin="long enough pw\n").returncode == 0
    (tmp_path / "c.csv").write_text(CATALOG_CSV)
    imported = cart_store(db, "import-catalog", str(tmp_path / "c.csv"))
    assert imported.returncode == 0 and "version 1" in imported.stdout
    (tmp_path / "bad.csv").write_text("code,name,price_cents\n12,x,1\n")
    bad = cart_store(db, "import-catalog", str(tmp_path / "bad.csv"))
    assert bad.returncode == 2 and "bad.csv:2" in bad.stderr


def test_printed_openapi_is_the_committed_one(tmp_path: Path, store_deps: None) -> None:
    printed = cart_store(str(tmp_path / "x.db"), "openapi")
    assert printed.returncode == 0
    committed = Path(__file__).resolve().parents[2] / "store" / "openapi.json"
    assert json.loads(printed.stdout) == json.loads(committed.read_text())
