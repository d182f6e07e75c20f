"""How long a block of a test may take, bounded so that a loaded machine does not fail it.

For work that computes until the engine stops it (an endless evaluation): the test holds
its CPU time (every thread of the process) to the bound, which the load of other processes
does not stretch, and its wall-clock time to :data:`STRETCH` times the bound, which still
catches a block that waits far too long. On a machine whose cores run several suites at
once (xdist workers, other people's runs) wall-clock time alone stretched past such bounds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

#: How much longer than its CPU time a block may take by the clock: a load of 10 on 2
#: cores (seen while six people ran suites here) gives each process a fifth of a core.
STRETCH = 6


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail the test when the block used ``seconds`` of CPU time or more, or took
    ``STRETCH * seconds`` of wall-clock time or more."""
    cpu, wall = time.process_time(), time.monotonic()
    yield
    used, took = time.process_time() - cpu, time.monotonic() - wall
    assert used < seconds, f"the block used {used:.2f} s of CPU time (bound {seconds} s)"
    assert took < STRETCH * seconds, f"the block took {took:.2f} s (bound {STRETCH * seconds} s)"
