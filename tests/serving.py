"""Loopback ports for tests that run in parallel (pytest-xdist workers, other runs of the
suite on the machine): a server is started on port 0 and its test reads the port the
system gave it, never a port probed free and handed over, which another process could
take in between."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager

_ANNOUNCED = re.compile(r"asl serve: Step Functions API on http://[^\s:]+:(\d+) ")


def announced_port(line: str) -> int:
    """The port in ``asl serve``'s first line, ``asl serve: Step Functions API on URL ...``
    (started with ``--port 0``: the port the system chose)."""
    found = _ANNOUNCED.match(line)
    assert found is not None, f"not asl serve's announcement: {line!r}"
    return int(found.group(1))


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections while the block runs: bound and never
    listening, so no other process can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])
