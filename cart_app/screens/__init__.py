"""The app's screens: one module (behaviour) and one .kv file (layout) each."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

HERE = Path(__file__).resolve().parent
KV_FILES = (
    HERE.parent / "widgets.kv",
    HERE / "start.kv",
    HERE / "basket.kv",
    HERE / "produce.kv",
    HERE / "remove.kv",
    HERE / "checkout.kv",
    HERE / "alerts.kv",
    HERE / "root.kv",
)
_loaded = False


def load_kv() -> None:
    """Load every layout rule once per process (Kivy's Builder is process-global)."""
    global _loaded
    if _loaded:
        return
    # the classes the rules name must be registered with the Factory first
    from cart_app import widgets  # noqa: F401
    from cart_app.screens import alerts, basket, checkout, produce, remove, root, start  # noqa: F401

    for path in KV_FILES:
        Builder.load_file(str(path))
    _loaded = True
