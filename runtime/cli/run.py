"""``asl run``: run a state machine to its end and print its output; the execution
itself is set up and run by ``local_run``, imported only when ``asl run`` runs (as the
engine is: ``asl --help`` and the other commands need none of it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from asl.jsontext import parse_json
from asl.loader import file_machine_name
from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_USAGE,
    ConnectionsOption,
    FunctionsOption,
    OutputFormat,
    ResourcesOption,
    SubstituteOption,
    SubstitutionsOption,
    counted,
    printable,
    substitutions,
    text_or_file,
)

if TYPE_CHECKING:
    from runtime.executions import Execution


def _read_input(text: str | None) -> Any:
    """The execution input from ``--input``: JSON text, or ``@file`` holding it."""
    if text is None:
        return {}
    given = text
    text = text_or_file(text, command="asl run", what="input")
    try:
        return parse_json(text)
    except ValueError as exc:
        where = (
            f" at line {exc.lineno} column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        hint = ""
        if not given.startswith("@") and Path(given).is_file():
            hint = f" (to read the input from the file {given}, write --input @{given})"
        typer.echo(
            "asl run: InvalidExecutionInput: Invalid State Machine Execution Input: "
            f"'{message}{where}'{hint}",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE) from None


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
        typer.echo(f"SUCCEEDED after {counted(len(execution.path), 'state')}", err=True)
        typer.echo(json.dumps(execution.output, indent=2))
    else:
        where = f" in state {execution.path[-1]!r}" if execution.path else ""
        detail = f": {execution.error}" if execution.error else ""
        typer.echo(printable(f"{execution.status}{where}{detail}"), err=True)
        if execution.cause:
            typer.echo(printable(execution.cause), err=True)
        hint = _HINTS.get(execution.error or "")
        if hint:
            typer.echo(f"hint: {hint}", err=True)


# What to do about errors that usually mean the local set-up, not the workflow, is wrong.
_HINTS = {
    "Lambda.ResourceNotFoundException": "a Lambda function the Task calls is not registered: "
    "map its name to a handler in the --functions file "
    '({"functions": {"NAME": {"handler": "module:function"}}})',
    **dict.fromkeys(
        (
            "SQS.QueueDoesNotExistException",
            "SNS.NotFoundException",
            "DynamoDB.ResourceNotFoundException",
            "S3.NoSuchBucketException",
            "EventBridge.ResourceNotFoundException",
        ),
        "the local AWS endpoint starts empty: declare the queues, topics, tables, buckets "
        "and event buses the workflow uses in a --resources file "
        '({"queues": ["NAME"], "tables": [{"name": "NAME", "key": {"id": "S"}}], ...})',
    ),
}


def run(
    definition: Annotated[Path, typer.Argument(help="The definition file (JSON or YAML).")],
    input_text: Annotated[
        str | None, typer.Option("--input", "-i", help="Execution input: JSON, or @file.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="State machine name (default: the file name); picks the mock entry."),
    ] = None,
    functions: FunctionsOption = None,
    connections: ConnectionsOption = None,
    resources: ResourcesOption = None,
    mock_config: Annotated[
        Path | None, typer.Option(help="MockConfigFile (Step Functions Local format).")
    ] = None,
    test_case: Annotated[
        str | None, typer.Option(help="The MockConfigFile test case to use.")
    ] = None,
    real_time: Annotated[
        bool, typer.Option("--real-time", help="Wait in real time, not virtual time.")
    ] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Make the run repeatable: ids, tokens, random numbers and the virtual "
            "clock's start come from this number (same seed, same output and history)."
        ),
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="Write the execution history (GetExecutionHistory JSON).")
    ] = None,
    trace: Annotated[
        Path | None,
        typer.Option(help="Draw the execution: .svg, .png, .pdf, .dot, .mmd or .html."),
    ] = None,
    map_runs: Annotated[
        Path | None,
        typer.Option(
            "--map-runs",
            help="Write the histories of the Distributed Maps' child executions, by Map Run "
            "ARN (JSON; `asl render --history ... --map-runs` draws them).",
        ),
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
    substitute: SubstituteOption = None,
    substitutions_file: SubstitutionsOption = None,
    logs: Annotated[
        bool,
        typer.Option(
            "--logs",
            help="Print each local Lambda invocation's log (what its handler printed) to "
            "stderr as it ends.",
        ),
    ] = False,
) -> None:
    """Run a state machine to its end and print its output.

    ${NAME} placeholders are filled from --substitute and --substitutions; one left
    without a value stops the run before it starts. What local Lambda handlers print is
    their log, shown with --logs and never mixed into the output.

    Exit status: 0 SUCCEEDED, 1 FAILED, TIMED_OUT or ABORTED, 2 bad usage, an invalid
    definition, or (after a run that SUCCEEDED) a --history, --map-runs or --trace that
    could not be written. The result is printed before those files are written.
    """
    from runtime.cli.local_run import (
        check_output,
        check_trace_format,
        draw_trace,
        report_billing,
        run_file,
        write_json,
    )
    from runtime.testing.coverage import map_run_histories
    from runtime.testing.local import DEFAULT_MACHINE_NAME

    if trace is not None:
        check_trace_format(trace)  # before running: a trace that cannot be drawn is bad usage
    for option, output in (("--history", history), ("--map-runs", map_runs), ("--trace", trace)):
        if output is not None:
            check_output(option, output)
    values = substitutions(substitute, substitutions_file, command="asl run")
    execution, functions_used = run_file(
        definition,
        _read_input(input_text),
        substitutions=values,
        machine_name=name or file_machine_name(definition) or DEFAULT_MACHINE_NAME,
        functions=functions,
        connections=connections,
        resources=resources,
        mock_config=mock_config,
        test_case=test_case,
        real_time=real_time,
        seed=seed,
        store=store,
        show_logs=logs,
    )
    _print_result(execution, output_format)
    report_billing(functions_used)
    written = True
    if history is not None:
        written = write_json(history, execution.history_json(), "the history")
    if map_runs is not None:
        written &= write_json(map_runs, map_run_histories(execution), "the Map Run histories")
    if trace is not None:
        written &= draw_trace(definition, trace, execution, substitutions=values)
    if execution.status != "SUCCEEDED":
        raise typer.Exit(EXIT_FAILED)
    if not written:
        raise typer.Exit(EXIT_USAGE)
