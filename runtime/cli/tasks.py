"""``asl tasks``: list the task tokens executions wait on, and answer them.

``asl run`` records every ``.waitForTaskToken`` and activity task it waits on in a small
SQLite store (``.asl/`` in the working directory, ``--store PATH`` or ``$ASL_STORE``);
these commands read and answer it from another terminal:

    asl tasks                                  # what waits: token, state, input, age
    asl tasks approve TOKEN [--output JSON]    # SendTaskSuccess (default output {})
    asl tasks reject TOKEN --error E --cause C # SendTaskFailure
    asl tasks heartbeat TOKEN                  # SendTaskHeartbeat

Exit status: 0 done, 1 the call failed (InvalidToken, TaskDoesNotExist, TaskTimedOut),
2 bad usage (output that is not JSON) or a store that cannot be used (corrupt, read-only).
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asl.jsontext import parse_json
from runtime.api_limits import check_error_and_cause
from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_USAGE,
    command_group,
    printable,
    printable_json,
    text_or_file,
)
from runtime.store import (
    ApiError,
    StoreError,
    TaskDoesNotExist,
    TaskRecord,
    TaskStore,
    default_store_path,
)
from runtime.store.tasks import check_token, store_file

if TYPE_CHECKING:
    from runtime.tokens import TaskTokens

_INPUT_SHOWN = 300  # characters of a task's input shown in the text listing

app = command_group(
    "tasks",
    "List the task tokens executions wait on (callbacks, activities) and answer them.",
    invoke_without_command=True,
)


class ListFormat(StrEnum):
    """How ``asl tasks`` prints the waiting tasks."""

    text = "text"
    json = "json"


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The store: a directory (default .asl) or a .sqlite3 file.",
        envvar="ASL_STORE",
    ),
]
FormatOption = Annotated[ListFormat, typer.Option("--format", "-f", help="text, or json.")]
TokenArgument = Annotated[str, typer.Argument(help="The task token.")]


def _tokens(store: Path | None) -> TaskTokens:
    # Imported here, with asyncio: only answering a task needs them, not listing, not
    # `asl --help`.
    from runtime.clock import RealClock
    from runtime.tokens import TaskTokens

    return TaskTokens(RealClock(), TaskStore(store if store is not None else default_store_path()))


def _exists(store: Path | None) -> bool:
    return store_file(store if store is not None else default_store_path()).exists()


def _age(seconds: float) -> str:
    """``1h 5m``: the two largest units of an age."""
    left = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2])


def _as_json(record: TaskRecord, now: float) -> dict[str, Any]:
    return {
        "taskToken": record.token,
        "kind": record.kind,
        "status": record.status,
        "stateName": record.state_name,
        "executionArn": record.execution_arn,
        "resource": record.resource,
        "input": parse_json(record.input),
        "ageSeconds": round(now - record.created, 3),
        "workerName": record.worker_name,
        "heartbeats": record.heartbeats,
        "heartbeatSeconds": record.heartbeat_seconds,
        "timeoutSeconds": record.timeout_seconds,
    }


def _as_text(record: TaskRecord, now: float) -> str:
    what = "callback" if record.kind == "callback" else f"activity {record.status.lower()}"
    if record.worker_name is not None:
        what += f" by {record.worker_name}"
    shown = record.input if len(record.input) <= _INPUT_SHOWN else record.input[:_INPUT_SHOWN] + "…"
    return (
        f"{record.token}\n"
        f"  state      {record.state_name} ({what}, waiting {_age(now - record.created)})\n"
        f"  execution  {record.execution_arn}\n"
        f"  input      {shown}"
    )


def _store_failed(error: StoreError) -> typer.Exit:
    typer.echo(f"asl tasks: {error}", err=True)
    return typer.Exit(EXIT_USAGE)


def _show(store: Path | None, output_format: ListFormat) -> None:
    try:
        records = _tokens(store).pending() if _exists(store) else []
    except StoreError as error:
        raise _store_failed(error) from None
    now = time.time()
    if output_format is ListFormat.json:
        text = json.dumps([_as_json(r, now) for r in records], indent=2, ensure_ascii=False)
        typer.echo(printable_json(text))
    elif not records:
        typer.echo("No task is waiting.", err=True)
    else:
        typer.echo(printable("\n\n".join(_as_text(r, now) for r in records)))


@app.callback()
def _main(
    ctx: typer.Context, store: StoreOption = None, output_format: FormatOption = ListFormat.text
) -> None:
    """List the tasks waiting for an answer (with no command), or answer one."""
    if ctx.invoked_subcommand is None:
        _show(store, output_format)


@app.command("list")
def list_tasks(store: StoreOption = None, output_format: FormatOption = ListFormat.text) -> None:
    """List the tasks waiting for an answer: token, state, execution, input and age."""
    _show(store, output_format)


def _call(store: Path | None, token: str, call: str, *args: Any) -> None:
    """Make one SendTask* call; AWS's error ends the command with exit status 1."""
    try:
        if call == "send_failure":  # AWS checks the members before the token
            check_error_and_cause(*args)
        check_token(token)
        if not _exists(store):
            raise TaskDoesNotExist()
        getattr(_tokens(store), call)(token, *args)
    except ApiError as error:
        typer.echo(f"asl tasks: {printable(str(error))}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except StoreError as error:
        raise _store_failed(error) from None


def _read_output(text: str) -> Any:
    """``--output``: JSON text, or ``@file`` holding it."""
    from runtime.tokens import parse_output  # see _tokens

    text = text_or_file(text, command="asl tasks", what="output")
    try:
        return parse_output(text)
    except ApiError as error:  # InvalidOutput, ValidationException (over 256 KiB)
        typer.echo(f"asl tasks: {printable(str(error))}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def approve(
    token: TokenArgument,
    output: Annotated[
        str, typer.Option("--output", "-o", help="The task's result: JSON, or @file.")
    ] = "{}",
    store: StoreOption = None,
) -> None:
    """SendTaskSuccess: the task succeeds with OUTPUT (default {})."""
    _call(store, token, "send_success", _read_output(output))
    typer.echo("SendTaskSuccess: the task succeeded.", err=True)


@app.command()
def reject(
    token: TokenArgument,
    error: Annotated[str | None, typer.Option(help="The error name.")] = None,
    cause: Annotated[str | None, typer.Option(help="The cause: a longer explanation.")] = None,
    store: StoreOption = None,
) -> None:
    """SendTaskFailure: the task fails with ERROR and CAUSE (both optional, as in AWS)."""
    _call(store, token, "send_failure", error, cause)
    typer.echo("SendTaskFailure: the task failed.", err=True)


@app.command()
def heartbeat(token: TokenArgument, store: StoreOption = None) -> None:
    """SendTaskHeartbeat: the task is alive; its HeartbeatSeconds start again."""
    _call(store, token, "send_heartbeat")
    typer.echo("SendTaskHeartbeat: the task is alive.", err=True)


if __name__ == "__main__":
    app()
