"""Intrinsic functions (placeholder: the parser and registry are being written)."""

from __future__ import annotations


def is_intrinsic_call(text: str) -> bool:
    """True when a ``.$`` value is written as an intrinsic call (``States.Name(...)``)."""
    return text.startswith("States.")


def check_call(text: str) -> str | None:
    """None when ``text`` parses as a call of a real intrinsic, else why not."""
    if "(" not in text or not text.rstrip().endswith(")"):
        return f"The value '{text}' is not a valid intrinsic function call"
    return None
