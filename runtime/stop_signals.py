"""The signals that stop a long-running command (``asl serve``): SIGINT and SIGTERM,
handled inside a block and given back their handlers after it (the command may run in a
test's process), and noted from the process's first moments when it runs ``asl serve``,
before the command's modules are imported. A module of its own, light to import: the
``asl`` command's entry point takes the signals over before it imports anything else."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["handling_stops", "note_early_stops", "stopped_early"]

_STOPS = (signal.SIGINT, signal.SIGTERM)
#: The stop signals that came before ``asl serve`` could take them over (two at most).
_noted_early: set[int] = set()


def note_early_stops(argv: Sequence[str]) -> None:
    """When the process runs ``asl serve`` (``argv``: its arguments), note SIGINT and
    SIGTERM from now on, for the command to stop at once it has started
    (:func:`stopped_early`). Its imports take a fifth of a second, in which Python's own
    handling would print a KeyboardInterrupt's traceback (SIGINT) or end it unannounced
    (SIGTERM); a later signal ends it quietly. A signal that comes before Python itself
    has started, or while it starts, is still the interpreter's to handle."""
    if argv[1:2] == ["serve"]:
        for signum in _STOPS:
            signal.signal(signum, _note)


def _note(signum: int, frame: Any) -> None:
    _noted_early.add(signum)


def stopped_early() -> bool:
    """Whether a stop signal was noted (see :func:`note_early_stops`)."""
    return bool(_noted_early)


@contextmanager
def handling_stops(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` inside the block (on the main thread only, as
    Python's signal handlers are); the handlers before are put back after."""
    previous = {signum: signal.signal(signum, handler) for signum in _STOPS}
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)
