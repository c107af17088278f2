"""Colours and sizes shared by every screen (dark theme, high contrast, big touch targets)."""

from __future__ import annotations

from kivy.metrics import dp, sp

BG = (0.09, 0.11, 0.13, 1)  # near black
PANEL = (0.15, 0.17, 0.20, 1)
ROW = (0.19, 0.22, 0.26, 1)
TEXT = (1, 1, 1, 1)
MUTED = (0.72, 0.76, 0.80, 1)  # still > 7:1 on BG
PRIMARY = (0.10, 0.55, 0.30, 1)  # green: start, add, pay
SECONDARY = (0.22, 0.36, 0.58, 1)  # blue: navigation
DANGER = (0.70, 0.20, 0.18, 1)
ALERT_BG = (1.0, 0.76, 0.15, 1)  # amber banner, dark text on it
ALERT_TEXT = (0.08, 0.08, 0.08, 1)
OK = (0.35, 0.85, 0.45, 1)
BAD = (1.0, 0.45, 0.40, 1)

TOUCH = dp(56)  # minimum touch target (>= 48 px on the 800x480 panel)
BAR_H = dp(44)
GAP = dp(8)
FONT = sp(20)
FONT_SMALL = sp(16)
FONT_BIG = sp(30)
FONT_HUGE = sp(40)


def hex_of(rgba: tuple[float, ...]) -> str:
    """For [color=...] markup."""
    return "".join(f"{round(c * 255):02x}" for c in rgba[:3])
