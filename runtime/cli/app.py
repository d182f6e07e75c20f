"""The ``asl`` command line: validate definitions (and, as the engine grows, run and draw them).

Exit codes: 0 success, 1 the definition or execution failed, 2 bad usage or unreadable input.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import asl
from asl.diagnostics import Diagnostic, has_errors
from asl.loader import reject_constant
from runtime.cli.options import text_or_file
from runtime.cli.render import render
from runtime.cli.tasks import app as tasks_app

if TYPE_CHECKING:
    from runtime.executions import Execution

app = typer.Typer(
    name="asl",
    help="Amazon States Language engine: validate, run and draw AWS Step Functions state machines.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class OutputFormat(StrEnum):
    """How ``asl validate`` prints its result."""

    text = "text"
    json = "json"


class MachineType(StrEnum):
    """The state machine type, which changes what is valid."""

    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class Severity(StrEnum):
    """The lowest severity reported."""

    ERROR = "ERROR"
    WARNING = "WARNING"


def _aws_response(diagnostics: list[Diagnostic]) -> dict[str, Any]:
    return {
        "result": "FAIL" if has_errors(diagnostics) else "OK",
        "diagnostics": [d.to_json() for d in diagnostics],
        "truncated": False,
    }


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Definition files (JSON or YAML).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="text, or json (AWS's response shape).")
    ] = OutputFormat.text,
    machine_type: Annotated[
        MachineType, typer.Option("--type", help="Validate as a STANDARD or EXPRESS machine.")
    ] = MachineType.STANDARD,
    severity: Annotated[
        Severity, typer.Option(help="Lowest severity to report (WARNING shows both).")
    ] = Severity.WARNING,
) -> None:
    """Check definitions and report every problem with its location.

    Exit status: 0 when all are valid, 1 when any is invalid, 2 when a file cannot be read.
    """
    results: dict[str, list[Diagnostic]] = {}
    unreadable = False
    for path in files:
        try:
            diagnostics = asl.validate(path, machine_type=machine_type.value)
        except FileNotFoundError as exc:
            typer.echo(f"asl validate: {exc}", err=True)
            unreadable = True
            continue
        if severity is Severity.ERROR:
            diagnostics = [d for d in diagnostics if d.severity == "ERROR"]
        results[str(path)] = diagnostics
    if output_format is OutputFormat.json:
        responses = {name: _aws_response(diags) for name, diags in results.items()}
        shown: Any = next(iter(responses.values())) if len(files) == 1 else responses
        if responses:
            typer.echo(json.dumps(shown, indent=2))
    else:
        for name, diagnostics in results.items():
            for d in diagnostics:
                typer.echo(d.format(name))
            if not has_errors(diagnostics):
                typer.echo(f"{name}: OK")
    if unreadable:
        raise typer.Exit(EXIT_USAGE)
    if any(has_errors(d) for d in results.values()):
        raise typer.Exit(EXIT_FAILED)


def _read_input(text: str | None) -> Any:
    """The execution input from ``--input``: JSON text, or ``@file`` holding it."""
    if text is None:
        return {}
    text = text_or_file(text, command="asl run", what="input")
    try:
        return json.loads(text, parse_constant=reject_constant)
    except ValueError as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        typer.echo(
            "asl run: InvalidExecutionInput: Invalid State Machine Execution Input: "
            f"'{message}{where}'",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE) from None


def _machine_name(definition: Path) -> str:
    """The file name without its extensions: ``orders.asl.json`` -> ``orders``."""
    return definition.name.split(".")[0] or "StateMachine"


def _print_result(execution: Execution, output_format: OutputFormat) -> None:
    """The output on stdout, the status (and any error) on stderr; or all of it as JSON."""
    if output_format is OutputFormat.json:
        result = {
            "status": execution.status,
            "output": execution.output,
            "error": execution.error,
            "cause": execution.cause,
        }
        typer.echo(json.dumps(result, indent=2))
    elif execution.status == "SUCCEEDED":
        typer.echo(f"SUCCEEDED after {len(execution.path)} states", err=True)
        typer.echo(json.dumps(execution.output, indent=2))
    else:
        detail = f": {execution.error}" if execution.error else ""
        typer.echo(f"{execution.status}{detail}", err=True)
        if execution.cause:
            typer.echo(execution.cause, err=True)


@app.command()
def run(
    definition: Annotated[Path, typer.Argument(help="The definition file (JSON or YAML).")],
    input_text: Annotated[
        str | None, typer.Option("--input", "-i", help="Execution input: JSON, or @file.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="State machine name (default: the file name); picks the mock entry."),
    ] = None,
    functions: Annotated[
        Path | None, typer.Option(help="Functions file mapping Lambda names to handlers.")
    ] = None,
    connections: Annotated[
        Path | None,
        typer.Option(help="EventBridge connections for HTTP Tasks (JSON or YAML)."),
    ] = None,
    mock_config: Annotated[
        Path | None, typer.Option(help="MockConfigFile (Step Functions Local format).")
    ] = None,
    test_case: Annotated[
        str | None, typer.Option(help="The MockConfigFile test case to use.")
    ] = None,
    real_time: Annotated[
        bool, typer.Option("--real-time", help="Wait in real time, not virtual time.")
    ] = False,
    history: Annotated[
        Path | None, typer.Option(help="Write the execution history (GetExecutionHistory JSON).")
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(help="Draw the execution: .svg, .png, .pdf, .dot, .mmd or .html."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            help="Where waiting task tokens are kept for `asl tasks` (default .asl).",
            envvar="ASL_STORE",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="text, or json.")
    ] = OutputFormat.text,
) -> None:
    """Run a state machine to its end and print its output.

    Exit status: 0 SUCCEEDED, 1 FAILED, TIMED_OUT or ABORTED, 2 bad usage or an invalid
    definition.
    """
    from runtime.cli.local_run import draw_trace, report_billing, run_file

    execution, functions_used = run_file(
        definition,
        _read_input(input_text),
        machine_name=name or _machine_name(definition),
        functions=functions,
        connections=connections,
        mock_config=mock_config,
        test_case=test_case,
        real_time=real_time,
        store=store,
    )
    if history is not None:
        history.write_text(json.dumps(execution.history_json(), indent=2) + "\n")
    if trace is not None:
        draw_trace(definition, trace, execution.history_json())
    _print_result(execution, output_format)
    report_billing(functions_used)
    if execution.status != "SUCCEEDED":
        raise typer.Exit(EXIT_FAILED)


app.add_typer(tasks_app, name="tasks")
app.command()(render)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Amazon States Language engine."""
    if version:
        from importlib.metadata import version as dist_version

        typer.echo(f"asl-engine {dist_version('asl-engine')}")
        raise typer.Exit(EXIT_OK)


def main() -> None:
    """Entry point of the ``asl`` console script."""
    app()


if __name__ == "__main__":
    main()
