"""``asl worker`` processes for the tests on Temporal, started as a user starts them, and
executions watched until they reach the moment a test needs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime.temporal import TemporalExecutions

ROOT = Path(__file__).resolve().parents[2]


def asl_worker(
    address: str, queue: str, *options: str, main: Path | None = None
) -> subprocess.Popen[str]:
    """An ``asl worker`` process serving ``queue``, once it says so. ``main``: a script
    run in place of ``python -m runtime.cli`` (a build of the engine changed by a test)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    entry = ["-m", "runtime.cli"] if main is None else [str(main)]
    process = subprocess.Popen(
        [sys.executable, *entry, "worker", "--temporal-address", address,
         "--task-queue", queue, *options],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "serving task queue" in line, line
    return process


async def reached(executions: TemporalExecutions, workflow_id: str, event: str) -> list[Any]:
    """The execution's history once it holds an event of type ``event``."""
    for _ in range(600):
        events = (await executions.history(workflow_id))["events"]
        if any(e["type"] == event for e in events):
            return events
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never reached {event}")
