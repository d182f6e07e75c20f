"""``asl worker``: workers that run executions on Temporal (see :mod:`runtime.temporal`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ConnectionsOption,
    FunctionsOption,
    ResourcesOption,
    leave_now,
    printable,
)
from runtime.defaults import DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE


def worker(
    temporal_address: Annotated[
        str, typer.Option(help="The Temporal frontend, HOST:PORT.", metavar="HOST:PORT")
    ],
    namespace: Annotated[str, typer.Option(help="The Temporal namespace.")] = DEFAULT_NAMESPACE,
    task_queue: Annotated[
        str, typer.Option(help="The task queue executions are started on.")
    ] = DEFAULT_TASK_QUEUE,
    processes: Annotated[int, typer.Option(help="How many worker processes to run.", min=1)] = 1,
    functions: FunctionsOption = None,
    connections: ConnectionsOption = None,
    resources: ResourcesOption = None,
    build_id: Annotated[
        str | None,
        typer.Option(
            help="Poll as this Build ID of a Temporal Worker Deployment (Worker "
            "Versioning): each execution stays on the build it started on until it ends.",
            metavar="ID",
        ),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option(
            help="The Worker Deployment of --build-id (default: the task queue's name).",
            metavar="NAME",
        ),
    ] = None,
    make_current: Annotated[
        bool,
        typer.Option(
            "--make-current",
            help="Once polling, make --build-id the deployment's current version: new "
            "executions start on it, running ones stay on their own build.",
        ),
    ] = False,
) -> None:
    """Run workers for executions on Temporal until SIGINT or SIGTERM.

    Each ASL execution is a Temporal workflow running this engine's interpreter; each
    Task invocation an activity run by a worker with these integrations (local
    functions, HTTP connections, AWS services). Run as many workers, on as many machines,
    as the load needs: Temporal hands each one work; an execution whose worker dies goes
    on on another, a running Task run again there (at least once).

    Each worker process prints "asl worker: process PID serving task queue QUEUE on
    HOST:PORT (namespace NAMESPACE)" once it polls the queue. Exit status: 0 after SIGINT
    or SIGTERM, 1 when the server does not answer or has no such namespace, 2 for a bad
    address or set-up file.

    A new build of this engine is rolled out with --build-id: start its workers with
    --make-current (they announce themselves once it is current), keep the old build's
    workers until the executions started on it have ended (temporal worker deployment
    describe-version says when its version is drained), then stop them.
    """
    import asyncio

    from runtime.temporal.versioning import Build
    from runtime.temporal.workers import (
        TemporalUnreachable,
        WorkerSettings,
        check_address,
        run_processes,
        serve_worker,
    )

    wrong = check_address(temporal_address)
    if wrong is not None:
        typer.echo(f"asl worker: --temporal-address {printable(wrong)}", err=True)
        raise typer.Exit(EXIT_USAGE)

    if build_id is None and (deployment is not None or make_current):
        typer.echo("asl worker: --deployment and --make-current need --build-id", err=True)
        raise typer.Exit(EXIT_USAGE)
    build = None if build_id is None else Build(deployment or task_queue, build_id)
    settings = WorkerSettings(
        temporal_address, namespace, task_queue, functions, connections, resources,
        build, make_current,
    )  # fmt: skip
    if processes > 1:
        raise typer.Exit(run_processes(settings, processes))

    def ready() -> None:
        version = "" if build is None else f", build {build.build_id} of {build.deployment}"
        typer.echo(
            f"asl worker: process {os.getpid()} serving task queue {task_queue} on "
            f"{temporal_address} (namespace {namespace}{version})"
        )

    try:
        asyncio.run(serve_worker(settings, ready))
    except TemporalUnreachable as exc:
        leave_now("asl worker", EXIT_FAILED, printable(str(exc)))
    except (OSError, ValueError, RuntimeError) as exc:
        leave_now("asl worker", EXIT_USAGE, printable(str(exc)))
    leave_now("asl worker", EXIT_OK)
