"""Support bundles (`cartctl diag`): one tar.gz a technician attaches to a ticket, holding the cart's
config (never its secrets), versions, the recent journal, the scale link's figures and logs.

Secrets stay out three ways: the credential file is never copied (only who it belongs to and its
mode); every text that goes in is scrubbed of the secret's encodings and of any `secret`, `token`
or `password` value; and the finished archive is scanned for the secret before it is kept, so a
leak is an error, never a bundle.
"""

from __future__ import annotations

import base64
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"(?i)(secret|token|password|passwd|api[_-]?key|credential)[\w-]*")
# key = value (TOML), "key": "value" (JSON), key=value (env, URLs)
SECRET_ASSIGNMENT = re.compile(
    r"""(?P<key>["']?(?i:[\w-]*(?:secret|token|password|passwd|api[_-]?key)[\w-]*)["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;&}\n]+)"""
)
PACKAGES = ("smartcart", "numpy", "pyserial", "opencv-python-headless", "zxing-cpp", "kivy", "ai-edge-litert")
LOG_TAIL_BYTES = 1_000_000


class DiagError(RuntimeError):
    pass


def secret_forms(secret: bytes) -> list[str]:
    """The ways the secret can appear in text (base64 in both alphabets, padded or not, hex)."""
    forms = {
        base64.urlsafe_b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode(),
        base64.b64encode(secret).decode().rstrip("="),
        secret.hex(),
        secret.hex().upper(),
    }
    return sorted((f for f in forms if len(f) >= 8), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    for form in secrets:
        text = text.replace(form, REDACTED)

    def hide(match: re.Match[str]) -> str:
        value = match.group("value")
        quote = value[0] if value[:1] in "\"'" else ""
        return f"{match.group('key')}{quote}{REDACTED}{quote}"

    return SECRET_ASSIGNMENT.sub(hide, text)


@dataclass
class Bundle:
    secrets: list[str] = field(default_factory=list)
    members: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_text(self, name: str, text: str) -> None:
        self.members[name] = scrub(text, self.secrets).encode("utf-8")

    def add_json(self, name: str, data: Any) -> None:
        self.add_text(name, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")

    def write(self, out: Path) -> Path:
        for name, data in self.members.items():
            text = data.decode("utf-8", "replace")
            for form in self.secrets:
                if form in text:
                    raise DiagError(f"refusing to write the bundle: {name} still holds the cart's secret")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        with tarfile.open(tmp, "w:gz") as tar:
            for name, data in sorted(self.members.items()):
                info = tarfile.TarInfo(f"diag/{name}")
                info.size = len(data)
                info.mtime = int(time.time())
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
        os.chmod(tmp, 0o600)  # a bundle is for the ticket, not for every user on the cart
        tmp.replace(out)
        return out


# --- collectors ---------------------------------------------------------------------------------


def credential_info(path: Path) -> tuple[dict[str, Any], list[str]]:
    """Who the credential belongs to (no secret) and the secret's forms for scrubbing."""
    if not path.exists():
        return {"path": str(path), "present": False}, []
    mode = stat.S_IMODE(path.stat().st_mode)
    info: dict[str, Any] = {"path": str(path), "present": True, "mode": f"{mode:04o}", "owner_only": not mode & 0o077}
    try:
        data = json.loads(path.read_text())
        secret_b64 = str(data.get("secret_b64", ""))
        secret = base64.urlsafe_b64decode(secret_b64 + "=" * (-len(secret_b64) % 4)) if secret_b64 else b""
        info.update(cart_id=data.get("cart_id"), store_url=data.get("store_url"))
    except (OSError, ValueError, AttributeError) as exc:
        info["error"] = f"unreadable: {type(exc).__name__}"
        raw = path.read_bytes() if os.access(path, os.R_OK) else b""
        return info, [t for t in re.findall(r"[A-Za-z0-9_\-+/=]{16,}", raw.decode("latin-1"))]
    return info, (secret_forms(secret) if secret else []) + ([secret_b64] if len(secret_b64) >= 8 else [])


def versions() -> dict[str, Any]:
    from firmware.tech.flasher import firmware_version, version_text

    packages = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
        "mcu_firmware_in_repo": version_text(firmware_version()),
    }


def journal_recent(path: Path, limit: int) -> dict[str, Any]:
    """The newest `limit` journal entries, the sessions they belong to and the outbox's state, read
    through a read-only connection (the daemon may be running)."""
    if not path.exists():
        return {"path": str(path), "present": False}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        return {"path": str(path), "error": str(exc)}
    try:
        rows = db.execute(
            "SELECT seq, session_id, t, role, kind, data FROM entries ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        sessions = db.execute(
            "SELECT session_id, cart_id, opened_unix, state FROM sessions ORDER BY opened_unix DESC LIMIT 20"
        ).fetchall()
        outbox = db.execute("SELECT COUNT(*), SUM(acked_unix IS NULL), MAX(attempts) FROM outbox").fetchone()
        errors = db.execute(
            "SELECT row_id, topic, attempts, last_error FROM outbox WHERE acked_unix IS NULL AND last_error IS NOT NULL"
            " ORDER BY row_id DESC LIMIT 20"
        ).fetchall()
    except sqlite3.Error as exc:
        return {"path": str(path), "error": str(exc)}
    finally:
        db.close()
    return {
        "path": str(path),
        "entries": [
            {"seq": s, "session_id": sid, "t": t, "role": role, "kind": kind, "data": json.loads(data)}
            for s, sid, t, role, kind, data in reversed(rows)
        ],
        "sessions": [dict(zip(("session_id", "cart_id", "opened_unix", "state"), r, strict=True)) for r in sessions],
        "outbox": {"messages": outbox[0], "pending": outbox[1] or 0, "max_attempts": outbox[2], "errors": errors},
    }


def link_figures(port: str, seconds: float) -> dict[str, Any]:
    """IDENTIFY and the scale link's counters over `seconds`."""
    from firmware.scale.source import SerialScaleSource
    from firmware.tech.settle import UNIT

    source = SerialScaleSource(port, UNIT)
    faults: list[str] = []
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            for event in source.poll(0.1):
                reason = getattr(event, "reason", None)
                if reason:
                    faults.append(reason)
        identity = source.link.identity
    finally:
        source.close()
    return {
        "port": port,
        "seconds": seconds,
        "identity": None
        if identity is None
        else {"protocol": identity.protocol, "firmware": list(identity.firmware), "board": identity.board},
        "stats": source.stats(),
        "faults": faults[:50],
    }


def system_logs(since: str = "-24h") -> str | None:
    """cartd's and the app's logs from the systemd journal, when there is one."""
    if shutil.which("journalctl") is None:
        return None
    try:
        done = subprocess.run(
            ["journalctl", "-u", "cartd", "-u", "cart-app", "--since", since, "--no-pager", "-o", "short-iso"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"journalctl failed: {exc}\n"
    return done.stdout + (done.stderr and f"\n[journalctl stderr]\n{done.stderr}")


def tail(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - limit))
        return f.read().decode("utf-8", "replace")
