"""How long a durable engine takes to recover parked executions (``Engine.recover``).

Usage, with the project's venv::

    .venv/bin/python bench/recover_bench.py [--executions N] [--damaged K]

Starts N executions on a durable engine (a fresh SQLite file in a temporary folder),
each through a Task and into a one-day Wait (held: the clock does not move), crashes (the
event loop ends under them, as a dead process leaves them), damages K of them (their
input no JSON text), then times ``recover()`` on a new engine: each intact execution
replayed to its Wait, each damaged one ended FAILED (``runtime.unresumable``). Prints the
CPU seconds (``time.process_time``: figures on a loaded machine stay comparable) and
wall seconds of the recovery, and how many executions were resumed and failed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine
from runtime.host import LocalHost

DEFINITION = {
    "StartAt": "First",
    "States": {
        "First": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage",
            "Parameters": {"n.$": "$.n"},
            "Next": "Nap",
        },
        "Nap": {"Type": "Wait", "Seconds": 86_400, "End": True},
    },
}


def _engine(db: Path) -> Engine:
    async def send(request: TaskRequest) -> Any:
        return {"sent": request.parameters}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    return Engine(LocalHost(invoker=registry, seed=1), database=db)


async def _park(db: Path, count: int) -> None:
    engine = _engine(db)
    engine.host.clock.begin_hold()
    machine = engine.create_state_machine(DEFINITION, name="parked")
    started = [await machine.start({"n": n}, name=f"e{n}") for n in range(count)]
    for _ in range(100_000):
        if all(e.history[-1].type == "WaitStateEntered" for e in started):
            return
        await asyncio.sleep(0.001)
    raise RuntimeError("the executions never reached their Wait")


async def _recover(db: Path) -> tuple[float, float, int, int]:
    engine = _engine(db)
    engine.host.clock.begin_hold()
    cpu, wall = time.process_time(), time.perf_counter()
    recovered = await engine.recover()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    failed = sum(1 for e in recovered if e.status == "FAILED")
    return cpu, wall, len(recovered) - failed, failed


def main() -> None:
    """Park, crash, damage, recover; print one line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=2_000)
    parser.add_argument("--damaged", type=int, default=0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # one line per damaged execution: not the figure
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite3"
        asyncio.run(_park(db, args.executions))
        with sqlite3.connect(db) as tampered:
            tampered.execute(
                "UPDATE executions SET input = '{' WHERE rowid IN "
                "(SELECT rowid FROM executions LIMIT ?)",
                (args.damaged,),
            )
        cpu, wall, resumed, failed = asyncio.run(_recover(db))
    print(
        f"recover: {args.executions} parked, {resumed} resumed, {failed} failed: "
        f"{cpu:.2f} s CPU, {wall:.2f} s wall"
    )


if __name__ == "__main__":
    main()
