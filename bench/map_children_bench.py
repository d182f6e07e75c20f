"""What reading each child of an ended Distributed Map costs a durable ``asl serve``.

Usage, with the project's venv::

    .venv/bin/python bench/map_children_bench.py [--children N] [--page 100] [--describes 50]
        [--earlier-file]

Runs one execution whose Distributed Map starts N children (Pass states) on the server's
durable backend (a fresh SQLite file in a temporary folder), waits for it to end, then
asks the server's operations, in this process (no HTTP: only the server's own work is
timed), for each child's DescribeExecution, GetExecutionHistory and
DescribeStateMachineForExecution, then for every page of ListExecutions(mapRunArn), and
DescribeMapRun of the Map Run (``--describes`` times, what a client polling it pays; with
``--earlier-file``, its row stripped of its stored counts first, as earlier versions wrote
it, so they are counted in SQLite).
Prints the CPU milliseconds (``time.process_time``: figures on a loaded machine stay
comparable) per child of each, per page of the listing and per DescribeMapRun.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from runtime.service import ServiceSettings
from runtime.service.errors import ExecutionDoesNotExist
from runtime.service.server import OPERATIONS, build_backend

DEFINITION = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Echo",
                "States": {"Echo": {"Type": "Pass", "End": True}},
            },
            "MaxConcurrency": 100,
            "End": True,
        }
    },
}


async def _call(backend: Any, name: str, body: dict[str, Any]) -> dict[str, Any]:
    return await OPERATIONS[name](backend, body)


async def measure(
    children: int, page: int, describes: int, earlier: bool = False
) -> dict[str, float]:
    """CPU milliseconds per child of each read, per page of the Map Run's listing and
    per DescribeMapRun."""
    with tempfile.TemporaryDirectory() as folder:
        settings = ServiceSettings(db=Path(folder) / "state.sqlite3")
        backend = build_backend(settings)
        try:
            machine = await _call(backend, "CreateStateMachine", {
                "name": "fan", "definition": json.dumps(DEFINITION),
                "roleArn": "arn:aws:iam::123456789012:role/r",
            })  # fmt: skip
            started = await _call(backend, "StartExecution", {
                "stateMachineArn": machine["stateMachineArn"], "input": json.dumps(
                    list(range(children))),
            })  # fmt: skip
            await backend.executions.wait(started["executionArn"])
            runs = await _call(backend, "ListMapRuns", {"executionArn": started["executionArn"]})
            map_run = runs["mapRuns"][0]["mapRunArn"]
            figures = await _reads(backend, map_run, page)
            if earlier:
                with contextlib.closing(sqlite3.connect(settings.db)) as db, db:
                    db.execute("UPDATE map_runs SET body = json_remove(body, '$.child_tally')")
            begun = time.process_time()
            for _ in range(describes):
                await _call(backend, "DescribeMapRun", {"mapRunArn": map_run})
            figures["DescribeMapRun"] = (time.process_time() - begun) * 1000 / describes
            return figures
        finally:
            await backend.engine.aclose()
            backend.catalog.close()


async def _reads(backend: Any, map_run: str, page: int) -> dict[str, float]:
    arns: list[str] = []
    token: str | None = None
    begun = time.process_time()
    pages = 0
    while True:
        body: dict[str, Any] = {"mapRunArn": map_run, "maxResults": page}
        if token is not None:
            body["nextToken"] = token
        listed = await _call(backend, "ListExecutions", body)
        pages += 1
        arns += [e["executionArn"] for e in listed["executions"]]
        token = listed.get("nextToken")
        if token is None:
            break
    figures = {"ListExecutions page": (time.process_time() - begun) * 1000 / pages}
    figures["children listed"] = len(arns)
    for name in ("DescribeExecution", "GetExecutionHistory", "DescribeStateMachineForExecution"):
        begun = time.process_time()
        for arn in arns:
            # DescribeStateMachineForExecution of a child: ExecutionDoesNotExist (the
            # server keeps no definition of an item processor), found after the look-up.
            with contextlib.suppress(ExecutionDoesNotExist):
                await _call(backend, name, {"executionArn": arn})
        figures[name] = (time.process_time() - begun) * 1000 / len(arns)
    return figures


def main() -> None:
    """Run the measurement and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--describes", type=int, default=50)
    parser.add_argument("--earlier-file", action="store_true")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.children, args.page, args.describes, args.earlier_file))
    print(f"{args.children} children of an ended Map Run, CPU ms (time.process_time):")
    for name, ms in figures.items():
        if name == "children listed":
            print(f"  {name:<34} {ms:8.0f}")
        else:
            per = "per page" if "page" in name else "per call" if "MapRun" in name else "per child"
            print(f"  {name:<34} {ms:8.3f} ms {per}")


if __name__ == "__main__":
    main()
