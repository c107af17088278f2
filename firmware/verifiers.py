"""The verifiers a cart can run, by name (`cartctl replay --verifier`, the daemon's config)."""

from __future__ import annotations

from firmware.core.verifier import RuleVerifier, Verifier

VERIFIER_NAMES = ("rule",)


def make_verifier(name: str) -> Verifier:
    if name == "rule":
        return RuleVerifier()
    raise ValueError(f"unknown verifier {name!r}; choose one of {', '.join(VERIFIER_NAMES)}")
