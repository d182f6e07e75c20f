"""``runtime.heap.settle_heap``: what a process of our own made before it is left out of
the cyclic garbage collector's passes (a full pass over it inside a Temporal activation
passed the SDK's two-second deadlock detector on a loaded machine: docs/architecture.md,
*Activations under load*). Run in a process of its own: it changes the whole process's
collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import gc, json
from runtime.heap import GC_THRESHOLD, settle_heap
made = [[n] for n in range(10_000)]
settle_heap()
later = [n] if (n := 1) else None
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "made_collected": any(made is each for each in gc.get_objects()),
    "later_collected": any(later is each for each in gc.get_objects()),
    "threshold": gc.get_threshold()[0],
    "expected": GC_THRESHOLD,
}))
"""


def test_what_start_up_made_is_left_out_of_the_collectors_passes() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["frozen"] >= 10_000
    assert (seen["made_collected"], seen["later_collected"]) == (False, True)
    assert seen["threshold"] == seen["expected"] > 700  # young passes rarer than Python's
