"""``asl run``: one execution of a definition file, with clear errors for bad set-up."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from asl.diagnostics import DefinitionError, has_errors
from asl.graph import build_graph
from asl.loader import (
    DefinitionTooLarge,
    Document,
    SubstitutionError,
    Substitutions,
    read_document,
)
from asl.validate import validate_document
from asl.validate.placeholders import unresolved
from integrations.aws.resources import ResourcesError
from integrations.base import parse_resource
from integrations.functions_file import FunctionsFileError, load_functions_file
from integrations.handler_logs import stray_output_to
from integrations.lambdas import Invocation, LocalFunctions
from integrations.mocks import MockConfigError
from runtime.api_limits import ValidationException
from runtime.cli.options import EXIT_USAGE, counted, printable
from runtime.executions import Execution, InvalidExecutionInput
from runtime.store import StoreError, TaskRecord, TaskStore, default_store_path
from runtime.testing import local_engine
from runtime.testing.coverage import map_run_histories
from visualizer import RenderError, render
from visualizer.render import output_format


def _fail(message: str) -> typer.Exit:
    typer.echo(f"asl run: {printable(message)}", err=True)
    return typer.Exit(EXIT_USAGE)


def _tell_how_to_answer(task: TaskRecord) -> None:
    state = printable(task.state_name)
    if task.kind == "activity":
        typer.echo(f"asl run: '{state}' waits for a worker of {task.resource}", err=True)
        return
    asl = _program()
    typer.echo(
        f"asl run: '{state}' waits for its task token; answer with\n"
        f"  {asl} tasks approve {task.token} [--output JSON]\n"
        f"  {asl} tasks reject {task.token} [--error E --cause C]",
        err=True,
    )


def _program() -> str:
    """The ``asl`` command as this process was started (``.venv/bin/asl`` when it is not
    on PATH), so a hint can be pasted as it is."""
    invoked = sys.argv[0] if sys.argv else ""
    return invoked if Path(invoked).name == "asl" else "asl"


def run_file(
    definition: Path,
    input_value: Any,
    *,
    machine_name: str,
    functions: Path | None,
    connections: Path | None,
    resources: Path | None,
    mock_config: Path | None,
    test_case: str | None,
    real_time: bool,
    seed: int | None = None,
    store: Path | None = None,
    substitutions: Substitutions | None = None,
    show_logs: bool = False,
) -> tuple[Execution, LocalFunctions]:
    """Validate, set up and run; bad usage exits 2 with a message, never a traceback.
    Returns the execution and the local functions it could call (for their billing).
    With ``show_logs`` each Lambda invocation's log is printed to stderr as it ends."""
    document = _read(definition, substitutions)
    diagnostics = validate_document(document)
    if has_errors(diagnostics):
        for d in diagnostics:
            typer.echo(printable(d.format(str(definition))), err=True)
        raise typer.Exit(EXIT_USAGE)
    missing = unresolved(document.value)
    if missing:
        listed = ", ".join(f"${{{name}}}" for name in missing)
        raise _fail(
            f"no value for {listed} in {definition}: give each with --substitute NAME=VALUE "
            "or in a --substitutions file"
        )
    if (mock_config is None) != (test_case is None):
        raise _fail("--mock-config and --test-case go together")
    try:
        local = LocalFunctions() if functions is None else load_functions_file(functions)
        _keep_stdout_for_the_result(local, show_logs)
        engine = local_engine(
            functions=local,
            connections=connections,
            resources=resources,
            mock_config=mock_config,
            state_machine_name=machine_name,
            test_case=test_case,
            clock="real" if real_time else "virtual",
            seed=seed,
            task_store=_task_store(store, document.value),
            external_answers=True,
            on_task_waiting=_tell_how_to_answer,
        )
        machine = engine.create_state_machine(document.value, name=machine_name)
    except (FunctionsFileError, MockConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None

    async def main() -> Execution:
        try:
            return await (await machine.start(input_value)).wait()
        finally:
            await engine.aclose()

    try:
        return asyncio.run(main()), local
    except ResourcesError as exc:
        raise _fail(str(exc)) from None
    except (InvalidExecutionInput, ValidationException) as exc:
        raise _fail(str(exc)) from None  # "Code: message"


def _read(definition: Path, substitutions: Substitutions | None) -> Document:
    """The definition file, its placeholders filled; unreadable or malformed, exit 2."""
    try:
        return read_document(definition, substitutions)
    except (FileNotFoundError, SubstitutionError) as exc:
        raise _fail(str(exc)) from None
    except DefinitionTooLarge as exc:
        raise _fail(f"{definition}: {exc.code}: {exc}") from None
    except DefinitionError as exc:
        for d in exc.diagnostics:
            typer.echo(printable(d.format(str(definition))), err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _task_store(store: Path | None, definition: Any) -> TaskStore:
    """The store of waiting tasks, checked now when the definition has a Task that waits
    in it: a corrupt or read-only store is an error before the run, not in its middle."""
    tasks = TaskStore(store if store is not None else default_store_path())
    if _may_wait(definition):
        try:
            tasks.check()
        except StoreError as exc:
            raise _fail(str(exc)) from None
    return tasks


def _may_wait(definition: Any) -> bool:
    """Whether a (valid) definition has a ``.waitForTaskToken`` or an activity Task."""
    for _, state in build_graph(definition).nodes(data="state"):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        try:
            parsed = parse_resource(resource)
        except ValueError:
            continue
        if parsed.pattern == "waitForTaskToken" or parsed.kind == "activity":
            return True
    return False


def _keep_stdout_for_the_result(functions: LocalFunctions, show_logs: bool) -> None:
    """Handlers' output is their log, never the command's output: shown on stderr with
    ``--logs``; output of threads a handler starts, of its child processes and of C code
    goes to stderr too."""
    _stdout_of_its_own()
    stray_output_to(sys.stderr)
    if show_logs:
        functions.on_invocation = _print_log


def _stdout_of_its_own() -> None:
    """Give ``sys.stdout`` a file descriptor of its own on the real stdout and point
    descriptor 1, which child processes inherit and C code writes to, at stderr. Only
    when ``sys.stdout`` is descriptor 1 (not when a test runner replaced it)."""
    try:
        if sys.stdout.fileno() != 1:
            return
    except (AttributeError, OSError, ValueError):  # no descriptor at all
        return
    stdout = sys.stdout
    stdout.flush()
    own = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(
        own,
        "w",
        encoding=stdout.encoding,
        errors=stdout.errors,
        buffering=1 if stdout.line_buffering else -1,
    )


def _print_log(call: Invocation) -> None:
    lines = call.log().rstrip("\n").split("\n")
    typer.echo("\n".join(f"{call.function} | {printable(line)}" for line in lines), err=True)


def report_billing(functions: LocalFunctions) -> None:
    """What the local Lambda functions would have been billed, as Lambda bills them; and
    how to see their logs, when they wrote any that were not shown."""
    billing = functions.billing
    if billing.invocations:
        typer.echo(
            f"Lambda: {counted(billing.invocations, 'invocation')}, {billing.billed_ms} ms billed, "
            f"{billing.gb_seconds:.6f} GB-seconds",
            err=True,
        )
        if functions.on_invocation is None and billing.logged:
            typer.echo("Lambda: the handlers printed to their logs: see them with --logs", err=True)


def check_trace_format(output: Path) -> None:
    """``--trace FILE``: its extension must name a format; else exit 2 before running."""
    try:
        output_format(output)
    except RenderError:
        raise _fail(
            f"--trace: cannot tell the format from {output.name!r}: end it with .svg, .png, "
            ".pdf, .dot, .mmd or .html"
        ) from None


def check_output(option: str, output: Path) -> None:
    """An output file's place, checked before running (a directory, or a folder that does
    not exist, would only fail once the run is over): else exit 2."""
    if output.is_dir():
        raise _fail(f"{option}: {output} is a directory")
    if not output.parent.is_dir():
        raise _fail(f"{option}: {output.parent} is not a directory")


def write_json(output: Path, value: Any, what: str) -> bool:
    """``asl run --history`` (GetExecutionHistory's JSON) and ``--map-runs``: write the
    value as indented JSON; a file that cannot be written (no permission, a full disk) is
    reported, and False returned."""
    try:
        output.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        typer.echo(f"asl run: cannot write {what} to {output}: {exc}", err=True)
        return False
    return True


def draw_trace(
    definition: Path,
    output: Path,
    execution: Execution,
    substitutions: Substitutions | None = None,
) -> bool:
    """``asl run --trace``: draw what the execution did, its Distributed Maps' child
    executions inside their Maps; a drawing problem is reported without hiding the
    execution's own result, and False returned."""
    try:
        render(
            read_document(definition, substitutions).value,
            output,
            history=execution.history_json(),
            map_runs=map_run_histories(execution),
        )
    except (RenderError, DefinitionError, DefinitionTooLarge, SubstitutionError, OSError) as exc:
        typer.echo(f"asl run: cannot draw the trace: {exc}", err=True)
        return False
    return True
