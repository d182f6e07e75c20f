"""The cyclic garbage collector in a process of our own (the API server, a Temporal worker).

A full collection walks every object the collector tracks: in a worker that has loaded the
engine, its integrations and the Temporal SDK, some 0.15 s of CPU, taken inside whatever
runs when it strikes. In a Temporal workflow's activation that counts against the SDK's
two seconds before it reports a "potential deadlock", and a loaded machine stretches
0.15 s of CPU past them (measured: bench/activation_probe). What start-up made lives as
long as the process, so it is moved out of the collector's passes once start-up is done.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]

#: The generation-0 threshold once settled (Python's default is 700). A request or a
#: workflow activation allocates hundreds of containers, nearly all freed by reference
#: counting, so a collection every 700 net allocations mostly finds nothing to free.
GC_THRESHOLD = 20_000


def settle_heap() -> None:
    """Leave what the process made so far (modules, the service model, a backend, a
    worker) out of the garbage collector's passes, and make its young-generation passes
    rarer. For a process of our own: it changes the collector for the whole process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
