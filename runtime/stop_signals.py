"""The signals that stop a long-running command (``asl serve``): SIGINT and SIGTERM,
handled inside a block and given back their handlers after it (the command may run in a
test's process). A module of its own, light to import: the CLI takes the signals over
before it imports the server."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["handling_stops"]


@contextmanager
def handling_stops(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` inside the block (on the main thread only, as
    Python's signal handlers are); the handlers before are put back after."""
    previous = {
        signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)
