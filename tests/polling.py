"""Waiting, bounded, for something a server or a subprocess does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], bound: float = 20.0, every: float = 0.05) -> Any:
    """``check()``'s value once it is truthy, asked every ``every`` seconds; fails the
    test after ``bound`` seconds."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"the condition did not hold within {bound} s")
