"""Which strand (thread of an execution) the running code belongs to, by a key that does
not depend on how concurrent strands interleave: ``""`` for an execution's top scope,
``<parent>/<event>.b<i>`` for a Parallel branch, ``<parent>/<event>.i<i>`` for a Map
iteration, ``<parent>/<event>.d<i>`` for a Distributed Map child (``<event>``: the id of the
event the strands start after). A durable execution keys its events and the answers of
the world by it (see :mod:`runtime.journal`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["STRAND", "in_strand", "strand_key"]

#: The strand the running code belongs to.
STRAND: ContextVar[str] = ContextVar("asl_strand", default="")


def strand_key(name: str) -> str:
    """The key of a child strand of the current one."""
    return f"{STRAND.get()}/{name}"


@contextmanager
def in_strand(key: str) -> Iterator[None]:
    """Run the block as the strand ``key``."""
    token = STRAND.set(key)
    try:
        yield
    finally:
        STRAND.reset(token)
