"""A worker process's lifeline: when the engine is gone, so are the worker and every
process its handler started.

The engine makes a pipe per worker (:class:`Lifeline`), hands the worker its read end and
keeps the write end, never writing to it. The worker, a process group of its own, first
forks a small *guardian* (:func:`guard`) that does nothing but wait on the read end. The
read ends when no write end is left open: when the engine reaps the worker and closes its
end, and when the engine's process dies, however it dies (SIGTERM, SIGKILL, a crash). The
guardian then kills the worker's whole process group with SIGKILL: the worker, a handler's
children and grandchildren, and itself.

The guardian is a process rather than a thread of the worker so that it still acts while a
handler holds the worker's interpreter lock (a runaway regular expression, a C loop). A
process a handler starts in a new session (``setsid``) leaves the group and escapes it.
Platforms without ``fork`` and process groups (Windows) have no guardian.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading

__all__ = ["Lifeline", "guard", "kill_group"]

_SUPPORTED = hasattr(os, "fork") and hasattr(os, "killpg")


class Lifeline:
    """The engine's end of one worker's lifeline: ``fd`` goes to the worker (``pass_fds``);
    :meth:`hand_over` once it started, :meth:`cut` once it is reaped."""

    def __init__(self) -> None:
        self.fd, self._keep = os.pipe()  # both not inherited unless passed
        self._cutting = threading.Lock()

    def hand_over(self) -> None:
        """Close the engine's copy of the worker's end (the worker has its own now)."""
        with contextlib.suppress(OSError):
            os.close(self.fd)

    def cut(self) -> None:
        """Close the engine's end: the worker's guardian kills what is left of its group.

        Threads may cut one lifeline at once (a retired worker's reaper and ``aclose``):
        the end is taken under a lock and closed once. Closed twice, the second close
        could hit the same number given meanwhile to another worker's lifeline, whose
        guardian would then kill that worker."""
        with self._cutting:
            keep, self._keep = self._keep, -1
        if keep >= 0:
            with contextlib.suppress(OSError):
                os.close(keep)


def guard(fd: int) -> None:
    """In a worker, first thing: fork the guardian that waits on the lifeline ``fd``."""
    if not _SUPPORTED:
        return
    if os.fork() != 0:
        os.close(fd)
        return
    try:  # the guardian: hold nothing but the lifeline (a pipe end kept open would hide
        # the worker's death from the engine), then wait for it to end
        os.closerange(0, fd)
        os.closerange(fd + 1, _max_fd())
        while os.read(fd, 512):
            pass
    finally:
        os.killpg(0, signal.SIGKILL)
        os._exit(0)  # not reached: the guardian is in the group


def _max_fd() -> int:
    try:
        return max(os.sysconf("SC_OPEN_MAX"), 256)
    except (ValueError, OSError):
        return 256


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a worker that leads its own process group, with its group (SIGKILL). One
    already reaped is left alone: its pid, and so its group's id, may belong to another
    process by now (what its handler left running, its guardian kills)."""
    if process.returncode is not None:
        return
    if _SUPPORTED:
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()
