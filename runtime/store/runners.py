"""Which engine runs which execution of a shared database file, and whether it is alive.

Every engine that opens a database file holds a *runner lock*: an exclusive POSIX record
lock (``lockf``) on a file of its own in the folder ``<database>.runners/``. The
operating system releases the lock when the process ends, however it ends (kill -9
included), so another process finds a runner dead by taking its lock, at once and without
heartbeats or clocks. POSIX locks belong to a process, not to one engine: within one
process an engine takes another's lock as free, so ``recover()`` there adopts what the
other left running (an engine dropped without closing is how tests crash one). Each
stored execution names its runner; at start an engine resumes only the RUNNING
executions whose runner is dead (:meth:`runtime.store.executions.ExecutionStore.adopt`),
so two servers on one file never run one execution twice.

Record locks are those of the local file system; SQLite itself needs one too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import uuid
from pathlib import Path

__all__ = ["RunnerLock"]


class RunnerLock:
    """This engine's runner lock on the database at ``database``, held until :meth:`close`."""

    def __init__(self, database: Path) -> None:
        self._folder = database.with_name(database.name + ".runners")
        self._folder.mkdir(parents=True, exist_ok=True)
        # Not seen by any execution: an id only the store's bookkeeping reads.
        self.id = uuid.uuid4().hex
        self._fd: int | None = os.open(self._path(self.id), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _path(self, runner: str) -> Path:
        return self._folder / f"{runner}.lock"

    def alive(self, runner: str) -> bool:
        """Whether the engine ``runner`` still holds its lock (this one does). A dead one's
        lock file is removed once found dead."""
        if runner == self.id:
            return self._fd is not None
        try:
            fd = os.open(self._path(runner), os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return True
            raise
        finally:
            os.close(fd)  # also releases the lock, if it was had
        with contextlib.suppress(FileNotFoundError):
            self._path(runner).unlink()
        return False

    def close(self) -> None:
        """Release the lock and remove its file."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self._path(self.id).unlink()
        os.close(self._fd)
        self._fd = None
