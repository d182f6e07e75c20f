"""Run the shared benchmark workloads (the ones the peers were measured on) in one process.

Usage, with the project's venv (created by ``make test`` or ``make demo``)::

    .venv/bin/python bench/workloads.py [NAME ...] [--workloads DIR]
        [--async-handler | --inline] [--no-gc] [--durable] [--cpu]

With no NAME, runs every workload, each in a fresh process. Prints, per workload,
executions/s, state transitions/s, wall seconds and peak RSS. The workloads are the
files in bench/workloads/ (or --workloads DIR): NAME.asl.json, NAME.input.json and
manifest.json (executions, concurrency, transitions per execution, warm-up runs). A
100,000-execution ``parked_100k`` run (each parked on a one-day Wait under the virtual
clock) is added. Every workload runs on ``runtime.testing.local_engine()``, the engine
users get, with history recorded for every execution as in normal use; ``task_echo``'s
Task calls an ordinary Lambda-style handler registered as a local function, run on a
thread as by default (``--async-handler``: the same echo as ``async def``, run in place;
``--inline``: the sync echo registered with ``isolation="inline"``, called in place on
the event loop's thread). ``--no-gc`` switches Python's garbage collector off, to show
how much of a figure it takes (a diagnosis, not a figure to quote). ``--durable`` runs
each workload on a durable engine (``local_engine(database=...)``, a fresh SQLite file in
a temporary folder): every execution's start, events, journal and end committed to the
file. ``--cpu`` adds the CPU time the process took per execution while they ran (every
thread's, a handler's thread included): on a loaded machine, where wall time says more
about the neighbours than about the engine, the figure to compare. Peer figures on the
same machine: bench/compare.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from integrations.lambdas import Isolation, LocalFunctions, parse_function_ref  # noqa: E402
from runtime.executions import MachineType  # noqa: E402
from runtime.testing import local_engine  # noqa: E402

DEFAULT_DIR = ROOT / "bench" / "workloads"


def echo(event: Any, context: Any) -> Any:
    """The Lambda handler behind task_echo's Task: returns its event."""
    return event


async def async_echo(event: Any, context: Any) -> Any:
    """``echo`` as an ``async def`` handler."""
    return event


def _task_functions(
    definition: dict[str, Any], spec: dict[str, Any], asynchronous: bool, isolation: Isolation
) -> LocalFunctions:
    """The local functions the workload's Task states call: for each state the manifest's
    ``task_handlers`` names, the function of its Resource ARN, served by ``echo`` (or
    ``async_echo``) with ``isolation``."""
    handlers = {"echo": async_echo if asynchronous else echo}
    functions = LocalFunctions()
    for state_name, handler_name in spec.get("task_handlers", {}).items():
        resource = definition["States"][state_name]["Resource"]
        ref = parse_function_ref(resource)
        if ref is None:
            raise SystemExit(f"{state_name}: {resource} is not a Lambda function ARN")
        if ref.name not in functions.functions:
            functions.register(ref.name, handlers[handler_name], isolation=isolation)
    return functions


@contextmanager
def _database(durable: bool) -> Iterator[Path | None]:
    """A fresh database file in a temporary folder (removed on leaving), or None."""
    if not durable:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="workloads-") as folder:
        yield Path(folder) / "workload.db"


async def _run(
    name: str,
    spec: dict[str, Any],
    folder: Path,
    handlers: tuple[bool, Isolation],
    database: Path | None,
) -> dict[str, Any]:
    definition = json.loads((folder / f"{name}.asl.json").read_text())
    input_value = json.loads((folder / f"{name}.input.json").read_text())
    engine = local_engine(
        functions=_task_functions(definition, spec, *handlers),
        clock="real" if name == "wait_many" else "virtual",
        database=database,
    )
    # An inline Map over 10,000 items records ~60,000 events: past the 25,000 a Standard
    # execution may have, as on AWS. Express executions have no such limit.
    kind: MachineType = "EXPRESS" if name == "map_10k" else "STANDARD"
    machine = engine.create_state_machine(definition, name=name, type=kind)
    for _ in range(spec.get("warmup", 0)):
        await (await machine.start(input_value)).wait()
    count = spec["repetitions"]
    started = time.perf_counter()
    cpu_started = time.process_time()
    if spec.get("concurrent"):
        executions = [await machine.start(input_value) for _ in range(count)]
        # Awaited in turn: all have ended when the last one has, and no task is made per
        # execution just to wait for it (gather's would run before their first steps).
        for execution in executions:
            await execution.wait()
    else:
        executions = []
        for _ in range(count):
            execution = await machine.start(input_value)
            await execution.wait()
            executions.append(execution)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    failed = [e for e in executions if e.status != "SUCCEEDED"]
    if failed:
        raise SystemExit(f"{name}: {len(failed)} executions ended {failed[0].status}: "
                         f"{failed[0].error} {failed[0].cause}")  # fmt: skip
    await engine.aclose()
    transitions = count * spec["transitions_per_exec"]
    return {
        "wall_s": wall,
        "executions_per_s": count / wall,
        "transitions_per_s": transitions / wall,
        "cpu_us_per_exec": cpu / count * 1e6,
    }


async def _parked(database: Path | None, count: int = 100_000) -> dict[str, Any]:
    engine = local_engine(database=database)
    definition = {
        "StartAt": "Park",
        "States": {"Park": {"Type": "Wait", "Seconds": 86_400, "End": True}},
    }
    machine = engine.create_state_machine(definition, name="parked")
    started = time.perf_counter()
    cpu_started = time.process_time()
    executions = [await machine.start({"n": i}) for i in range(count)]
    await asyncio.gather(*(e.wait() for e in executions))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    assert all(e.status == "SUCCEEDED" for e in executions)
    await engine.aclose()
    return {"wall_s": wall, "executions_per_s": count / wall, "transitions_per_s": count / wall,
            "cpu_us_per_exec": cpu / count * 1e6}  # fmt: skip


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    """Run the chosen workloads and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--workloads", type=Path, default=DEFAULT_DIR)
    handler = parser.add_mutually_exclusive_group()
    handler.add_argument("--async-handler", action="store_true")
    handler.add_argument("--inline", action="store_true")
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument("--durable", action="store_true")
    parser.add_argument("--cpu", action="store_true")
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()
    manifest = json.loads((args.workloads / "manifest.json").read_text())
    if not args.names:
        # One fresh process per workload, so peak RSS and warm caches are its own.
        flags = [f for f, on in (("--async-handler", args.async_handler),
                                 ("--inline", args.inline),
                                 ("--no-gc", args.no_gc),
                                 ("--durable", args.durable),
                                 ("--cpu", args.cpu)) if on]  # fmt: skip
        for name in [*manifest, "parked_100k"]:
            command = [sys.executable, __file__, name, "--workloads", str(args.workloads)]
            subprocess.run([*command, *flags], check=True)
        return
    for name in args.names:
        with _database(args.durable) as database:
            if name == "parked_100k":
                figures = asyncio.run(_parked(database))
            else:
                spec = manifest[name]
                handlers = (args.async_handler, "inline" if args.inline else "thread")
                figures = asyncio.run(_run(name, spec, args.workloads, handlers, database))
        cpu = f"  CPU {figures['cpu_us_per_exec']:.1f} us/exec" if args.cpu else ""
        print(
            f"{name:16} {figures['wall_s']:8.3f} s  {figures['executions_per_s']:10.0f} exec/s  "
            f"{figures['transitions_per_s']:10.0f} transitions/s  peak RSS {_peak_rss_mb():.0f} MB"
            f"{cpu}",
            flush=True,
        )


if __name__ == "__main__":
    main()
