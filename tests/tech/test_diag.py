"""`cartctl diag`: the bundle holds config, versions, journal, link figures and logs, and no form of
the cart's secret (nor other secret-looking values) ends up in it."""

from __future__ import annotations

import json
import stat
import tarfile
from pathlib import Path

import pytest

from firmware.cli.cartctl import main
from firmware.core.events import ScaleSampled
from firmware.journal import Journal
from firmware.scale.fake_mcu import PtyFakeMcu
from firmware.sync.credentials import load_credential
from firmware.tech.diag import Bundle, DiagError, scrub, secret_forms


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_bundle_has_the_parts_and_no_secret(tmp_path: Path, capsys) -> None:
    config, secrets, state = tmp_path / "cartd.toml", tmp_path / "credential.json", tmp_path / "state"
    assert main(["provision", "--cart-id", "cart-9", "--store-url", "https://s.example",
                 "--config", str(config), "--secrets", str(secrets)]) == 0  # fmt: skip
    secret = load_credential(secrets).secret
    forms = secret_forms(secret)
    with config.open("a") as f:
        f.write(f'\n[daemon]\nstate_dir = "{state}"\n')
    journal = Journal(state / "journal.db")
    journal.open_session("s1", "cart-9", None, None)
    journal.record_state("s1", 1.0, "debug", {"note": f"leaked {forms[0]}", "token": "tok-123456789"})
    journal.record_samples("s1", ScaleSampled(1.0, 80.0, (1.0, 2.0)))
    journal.close()
    log = tmp_path / "cartd.log"
    log.write_text(f"started\nsecret_b64={forms[1]}\npassword=hunter2 user=bob\nhex {secret.hex()}\n")
    out = tmp_path / "bundle.tar.gz"
    with PtyFakeMcu(tmp_path / "tty") as fake:
        code = main(["diag", "--out", str(out), "--config", str(config), "--secrets", str(secrets),
                     "--port", str(fake.link_path), "--link-seconds", "1", "--log", str(log),
                     "--no-system-logs"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    members = _members(out)
    assert set(members) >= {
        "diag/config/cartd.toml", "diag/credential.json", "diag/versions.json", "diag/journal.json",
        "diag/link.json", "diag/logs/cartd.log", "diag/bundle.json", "diag/storage.json",
    }  # fmt: skip
    blob = b"\n".join(members.values()).decode()
    for form in forms:
        assert form not in blob
    assert "hunter2" not in blob and "tok-123456789" not in blob
    assert "user=bob" in blob  # only secrets are hidden
    journal_json = json.loads(members["diag/journal.json"])
    assert journal_json["entries"][0]["kind"] == "debug" and journal_json["sessions"][0]["cart_id"] == "cart-9"
    storage = json.loads(members["diag/storage.json"])
    assert storage["status"] == "ok" and storage["free_mb"] > 0 and storage["journal_mb"] > 0
    link = json.loads(members["diag/link.json"])
    assert link["identity"]["board"] == "fake-mcu" and link["stats"]["samples"] > 0
    credential = json.loads(members["diag/credential.json"])
    assert credential == {**credential, "cart_id": "cart-9", "mode": "0600", "owner_only": True}
    assert 'id = "cart-9"' in members["diag/config/cartd.toml"].decode()


def test_a_surviving_secret_refuses_the_bundle(tmp_path: Path) -> None:
    secret = bytes(range(32))
    bundle = Bundle(secrets=secret_forms(secret))
    bundle.members["raw.bin"] = secret.hex().encode()  # bypassing the scrubber
    with pytest.raises(DiagError, match=r"raw\.bin still holds"):
        bundle.write(tmp_path / "b.tar.gz")
    assert not (tmp_path / "b.tar.gz").exists()


def test_scrub_patterns() -> None:
    text = 'api_key = "abc"\n{"password": "p w"}\nurl?token=xyz&x=1\nsecret: s3\nplain = 1'
    out = scrub(text, [])
    assert "abc" not in out and "p w" not in out and "xyz" not in out and "s3" not in out
    assert "plain = 1" in out and "x=1" in out


def test_diag_without_a_cart_still_writes(tmp_path: Path, capsys) -> None:
    out = tmp_path / "b.tar.gz"
    code = main(["diag", "--out", str(out), "--config", str(tmp_path / "none.toml"), "--secrets",
                 str(tmp_path / "none.json"), "--journal", str(tmp_path / "none.db"), "--no-system-logs"])  # fmt: skip
    assert code == 0
    assert "no config at" in capsys.readouterr().out
    assert json.loads(_members(out)["diag/credential.json"])["present"] is False
