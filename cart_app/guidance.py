"""Guided resolution of an open alert: a title, the daemon's hint, and the buttons that answer it.

Pure data in, pure data out (no Kivy), so each alert kind's buttons are tested directly. An action
either sends an intent to cartd (`op` with `args`) or opens a screen (`screen`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TITLES = {
    "unscanned_item": "Something went in without a scan",
    "weight_mismatch": "That item does not match the scan",
    "scan_not_placed": "Scanned, but nothing went in",
    "unknown_code": "This code is not in the store list",
    "removal_unidentified": "Which item did you take out?",
    "scale_fault": "The scale needs attention",
    "camera_fault": "The camera needs attention",
}

FALLBACK_HINTS = {
    "unscanned_item": "Scan the item you just put in, or take it out.",
    "weight_mismatch": "Take the item out and scan what you put in.",
    "scan_not_placed": "Put the item in the basket, or cancel the scan.",
    "unknown_code": "A member of staff will help you.",
    "removal_unidentified": "Tap the item you took out.",
    "scale_fault": "A member of staff will help you.",
    "camera_fault": "Type the barcode, or wait for staff.",
}


@dataclass(frozen=True, slots=True)
class Action:
    label: str
    op: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    screen: str | None = None


@dataclass(frozen=True, slots=True)
class Guidance:
    aid: int
    kind: str
    title: str
    hint: str
    detail: str
    actions: tuple[Action, ...]


def guide(alert: dict[str, Any], view: dict[str, Any]) -> Guidance:
    """Buttons for one alert, given the snapshot's lines and pending scans (`CartState.snapshot_view`)."""
    kind = str(alert.get("kind", ""))
    detail = str(alert.get("detail") or "")
    hint = str(alert.get("hint") or FALLBACK_HINTS.get(kind, "A member of staff will help you."))
    lines = [line for line in view.get("lines") or [] if line.get("code")]
    pending = [scan for scan in view.get("pending") or [] if scan.get("code")]
    actions: list[Action] = []
    if kind == "removal_unidentified":
        # the items the weight that left may have been, as cartd lists them; else every line on the bill
        choices = [c for c in alert.get("candidates") or [] if c.get("code")] or lines
        actions = [Action(_short(_name(c)), "remove", {"code": c["code"]}) for c in choices]
    elif kind in ("scan_not_placed", "weight_mismatch"):
        scans = _scans_named_by(alert, detail, pending)
        if len(scans) == 1:
            actions = [Action("Cancel this scan", "remove", {"code": scans[0]["code"]})]
        else:
            actions = [Action(f"Cancel {_short(_name(s))}", "remove", {"code": s["code"]}) for s in scans]
    elif kind == "unscanned_item":
        actions = [Action("Type the barcode", screen="produce"), Action("Loose produce", screen="produce")]
    elif kind == "camera_fault":
        actions = [Action("Type the barcode", screen="produce")]
    return Guidance(
        aid=int(alert.get("aid", 0)),
        kind=kind,
        title=TITLES.get(kind, kind.replace("_", " ").capitalize() or "Alert"),
        hint=hint,
        detail=detail,
        actions=tuple(actions),
    )


def _scans_named_by(alert: dict[str, Any], detail: str, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pending scan(s) the alert is about: by its `code` field when cartd sends one, else by the
    code or name its detail mentions, else every pending scan (the shopper picks)."""
    code = alert.get("code")
    if code:
        named = [scan for scan in pending if scan["code"] == code]
        return named[-1:] if named else [{"code": str(code), "name": str(code)}]
    by_code = [scan for scan in pending if scan["code"] in detail]
    if by_code:
        return _unique(by_code)
    by_name = [scan for scan in pending if scan.get("name") and detail.startswith(f"{scan['name']} ")]
    return _unique(by_name or pending)


def _unique(scans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for scan in scans:
        seen[scan["code"]] = scan
    return list(seen.values())


def _name(item: dict[str, Any]) -> str:
    return str(item.get("name") or item["code"])


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
