"""``asl worker``: workers that run executions on Temporal (see :mod:`runtime.temporal`)."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from runtime.cli.options import (
    EXIT_USAGE,
    ConnectionsOption,
    FunctionsOption,
    ResourcesOption,
    printable,
)


def worker(
    temporal_address: Annotated[
        str, typer.Option(help="The Temporal frontend, HOST:PORT.", metavar="HOST:PORT")
    ],
    namespace: Annotated[str, typer.Option(help="The Temporal namespace.")] = "default",
    task_queue: Annotated[
        str, typer.Option(help="The task queue executions are started on.")
    ] = "asl-executions",
    processes: Annotated[int, typer.Option(help="How many worker processes to run.", min=1)] = 1,
    functions: FunctionsOption = None,
    connections: ConnectionsOption = None,
    resources: ResourcesOption = None,
) -> None:
    """Run workers for executions on Temporal until SIGINT or SIGTERM.

    Each ASL execution is a Temporal workflow running this engine's interpreter; each
    Task invocation an activity run by a worker with these integrations (local
    functions, HTTP connections, AWS services). Run as many workers, on as many machines,
    as the load needs: Temporal hands each one work; an execution whose worker dies goes
    on on another, a running Task run again there (at least once).
    """
    from runtime.temporal.workers import WorkerSettings, run_processes, serve_worker

    settings = WorkerSettings(
        temporal_address, namespace, task_queue, functions, connections, resources
    )
    if processes > 1:
        raise typer.Exit(run_processes(settings, processes))

    def ready() -> None:
        typer.echo(
            f"asl worker: process {os.getpid()} serving task queue {task_queue} on "
            f"{temporal_address} (namespace {namespace})"
        )

    try:
        asyncio.run(serve_worker(settings, ready))
    except (OSError, ValueError, RuntimeError) as exc:
        typer.echo(f"asl worker: {printable(str(exc))}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
