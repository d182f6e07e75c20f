"""``asl serve``: the Step Functions API for unmodified AWS clients (boto3, the AWS CLI,
the SDKs), its state kept in a SQLite database (or in memory), with EventBridge Scheduler
schedules starting executions, until SIGINT or SIGTERM."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runtime.cli.options import (
    EXIT_OK,
    EXIT_USAGE,
    ConnectionsOption,
    FunctionsOption,
    ResourcesOption,
    leave_now,
    printable,
)
from runtime.defaults import (
    DEFAULT_ACCOUNT,
    DEFAULT_NAMESPACE,
    DEFAULT_REGION,
    DEFAULT_TASK_QUEUE,
)
from runtime.stop_signals import handling_stops, stopped_early

if TYPE_CHECKING:
    from runtime.service import ServiceSettings


class BackendKind(StrEnum):
    """Where the executions served live."""

    local = "local"
    temporal = "temporal"


class ClockKind(StrEnum):
    """How time passes for the executions served."""

    real = "real"
    virtual = "virtual"


def serve(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(help="The port (Step Functions Local's; 0: a free one).", min=0, max=65535),
    ] = 8083,
    functions: FunctionsOption = None,
    connections: ConnectionsOption = None,
    resources: ResourcesOption = None,
    mock_config: Annotated[
        Path | None,
        typer.Option(
            help="MockConfigFile (Step Functions Local format); StartExecution on "
            "ARN#TestCase picks a test case.",
            envvar="SFN_MOCK_CONFIG",
        ),
    ] = None,
    clock: Annotated[
        ClockKind,
        typer.Option(help="real, or virtual: waits and timeouts take no time (for tests)."),
    ] = ClockKind.real,
    region: Annotated[
        str, typer.Option(help="The region of every ARN.", envvar="AWS_DEFAULT_REGION")
    ] = DEFAULT_REGION,
    account: Annotated[
        str, typer.Option(help="The account of every ARN.", envvar="AWS_ACCOUNT_ID")
    ] = DEFAULT_ACCOUNT,
    schedules: Annotated[
        Path | None,
        typer.Option(
            help="EventBridge Scheduler schedules (JSON or YAML) that start executions.",
            dir_okay=False,
        ),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="The SQLite file that holds the server's whole state (state machines, "
            "executions, histories, activities, tags, schedules), so a restart goes on where "
            "the last server stopped. A path without an extension is a directory holding "
            "store.sqlite3; ':memory:' keeps nothing. Default: $ASL_STORE, else .asl/ in "
            "the working directory.",
            metavar="PATH",
        ),
    ] = None,
    backend: Annotated[
        BackendKind,
        typer.Option(
            help="Where executions live: local (this process, kept in --db), or temporal "
            "(workflows on Temporal, run by asl worker processes)."
        ),
    ] = BackendKind.local,
    temporal_address: Annotated[
        str | None,
        typer.Option(
            help="With --backend temporal: the Temporal frontend, HOST:PORT.",
            metavar="HOST:PORT",
        ),
    ] = None,
    namespace: Annotated[
        str, typer.Option(help="With --backend temporal: the Temporal namespace.")
    ] = DEFAULT_NAMESPACE,
    task_queue: Annotated[
        str,
        typer.Option(
            help="With --backend temporal: the task queue executions are started on (the "
            "workers' --task-queue)."
        ),
    ] = DEFAULT_TASK_QUEUE,
) -> None:
    """Serve the Step Functions API (AWS JSON 1.0) at http://HOST:PORT/.

    Point a client at it with its endpoint setting (the AWS CLI's --endpoint-url, boto3's
    endpoint_url). For StartSyncExecution and TestState, turn off the host prefix too:
    boto3's Config(inject_host_prefix=False), the AWS CLI's
    AWS_DISABLE_HOST_PREFIX_INJECTION=true.

    --db is the server's whole state: state machines, executions and their histories,
    versions, aliases, activities, tags, where each schedule stands and its last runs. A
    server started again on the same --db (even after a crash) goes on where the last one
    stopped: the executions it left running resume, each Task run at least once.

    The web console is at http://HOST:PORT/console/: state machines, executions (live),
    waiting tasks to approve or reject, schedules with their next and last runs. On an
    address other than loopback it asks for a token, printed at start ($ASL_CONSOLE_TOKEN,
    else a new one each start); the API itself asks for none, so expose it only on a
    network you trust.

    --schedules FILE starts executions on EventBridge Scheduler schedules; a restart
    neither repeats a scheduled run nor forgets one it missed.

    Step Functions Local's SQS_ENDPOINT, SNS_ENDPOINT and DYNAMODB_ENDPOINT say where
    AWS service Tasks send their calls.

    --backend temporal --temporal-address HOST:PORT serves the same API with executions
    as workflows on Temporal, run by `asl worker` processes polling the same namespace and
    --task-queue (the Tasks' functions, connections and resources are the workers'); --db
    then keeps the catalog (state machines, versions, aliases, activities, tags, the
    executions started). Not served there yet: a MockConfigFile (refused at start-up).
    """
    with _stop_signals() as asked:
        from integrations.functions_file import FunctionsFileError
        from integrations.mocks import MockConfigError
        from runtime.service import ServiceSettings, SettingsError, from_environment, serve
        from runtime.service.console import is_loopback
        from runtime.store import StoreError, default_store_path

        given = ServiceSettings(
            region=region,
            account=account,
            clock="virtual" if clock is ClockKind.virtual else "real",
            functions=functions,
            connections=connections,
            resources=resources,
            mock_config=mock_config,
            schedules=schedules,
            db=db if db is not None else default_store_path(),
            console_token=None if is_loopback(host) else _console_token(),
            backend="temporal" if backend is BackendKind.temporal else "local",
            temporal_address=temporal_address,
            namespace=namespace,
            task_queue=task_queue,
        )
        if backend is BackendKind.local and temporal_address is not None:
            raise _fail("--temporal-address needs --backend temporal")
        try:
            settings, warnings = from_environment(os.environ, given)
            for warning in warnings:
                typer.echo(f"asl serve: warning: {warning}", err=True)
            serve(settings, host, port, _announce(settings), asked)
        except (
            SettingsError,
            FunctionsFileError,
            MockConfigError,
            StoreError,
            OSError,
            ValueError,
        ) as exc:
            if backend is BackendKind.temporal:
                leave_now("asl serve", EXIT_USAGE, printable(str(exc)))
            raise _fail(str(exc)) from None
    typer.echo("asl serve: stopped", err=True)
    if backend is BackendKind.temporal:
        leave_now("asl serve", EXIT_OK)


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM noted from the command's start (from the process's, by the
    entry point: ``note_early_stops``), until ``serve`` takes them over: one that comes
    while the server starts stops it once started, as quietly as a later one. The handlers
    before are put back after (the command may run in a test's process)."""
    asked = threading.Event()
    if stopped_early():  # while the command's modules were imported
        asked.set()
    if threading.current_thread() is not threading.main_thread():
        yield asked  # signal handlers are the main thread's to set
        return
    with handling_stops(lambda *_: asked.set()):
        yield asked


def _console_token() -> str:
    return os.environ.get("ASL_CONSOLE_TOKEN") or secrets.token_urlsafe(18)


def _announce(settings: ServiceSettings) -> Callable[[str], None]:
    region, account, token = settings.region, settings.account, settings.console_token

    def ready(url: str) -> None:
        typer.echo(f"asl serve: Step Functions API on {url} (region {region}, account {account})")
        if settings.backend == "temporal":
            typer.echo(
                f"asl serve: executions on Temporal at {settings.temporal_address} (namespace "
                f"{settings.namespace}, task queue {settings.task_queue})"
            )
        typer.echo(
            f"asl serve: web console on {url}/console/" + (f"?token={token}" if token else "")
        )
        typer.echo("asl serve: stop with Ctrl+C", err=True)

    return ready


def _fail(message: str) -> typer.Exit:
    typer.echo(f"asl serve: {printable(message)}", err=True)
    return typer.Exit(EXIT_USAGE)
