"""``asl test``: every test case of a Step Functions Local MockConfigFile run against its
state machines (each definition file names its machine, as ``asl run`` does); prints, per
test case, the status, the path and the output or error. With ``--expect`` (an
expectations file, see :mod:`runtime.testing.case_runner`) each case is checked;
``--junit-xml`` writes the results for CI.

Exit status: 0 when every case met its expectations (or none were given), 1 when one
missed them, 2 for bad usage and unreadable or invalid files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from asl.diagnostics import DefinitionError
from asl.loader import file_machine_name
from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    FunctionsOption,
    json_option,
    printable,
)

if TYPE_CHECKING:
    from runtime.testing.case_runner import CaseResult

_COMMAND = "asl test"


def _usage(message: str) -> typer.Exit:
    typer.echo(printable(f"{_COMMAND}: {message}"), err=True)
    return typer.Exit(EXIT_USAGE)


def test_cases(
    mock_config: Annotated[Path, typer.Argument(help="The MockConfigFile (JSON or YAML).")],
    definitions: Annotated[
        list[Path],
        typer.Argument(help="Definition files; <name>.asl.json is the state machine <name>."),
    ],
    expect: Annotated[
        Path | None,
        typer.Option(
            help="Expectations (JSON or YAML): machine -> test case -> input, status, "
            "output, error, cause, path."
        ),
    ] = None,
    input_text: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Input of every test case whose expectations give none: JSON, or @file "
            "(default {}).",
        ),
    ] = None,
    functions: FunctionsOption = None,
    junit_xml_file: Annotated[
        Path | None, typer.Option("--junit-xml", help="Write the results as JUnit XML.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the runs' ids and clock.")] = 0,
) -> None:
    """Run every test case of a MockConfigFile against its state machines."""
    # Imported here, as the engine is by every command that runs one: `asl --help` and
    # the other commands need none of it.
    from integrations.functions_file import FunctionsFileError
    from integrations.mocks import MockConfig, MockConfigError
    from integrations.settings_file import SettingsFileError, read_settings
    from runtime.testing.case_runner import junit_xml, run_cases

    by_name = {}
    for path in definitions:
        name = file_machine_name(path)
        if name is None:
            raise _usage(f"{path}: cannot tell the state machine's name from the file name")
        by_name[name] = path
    default_input = (
        None if input_text is None else json_option(input_text, command=_COMMAND, what="input")
    )
    try:
        config = MockConfig.load(mock_config)
        expectations = read_settings(expect) if expect is not None else None
        if expectations is not None and not isinstance(expectations, dict):
            raise _usage(f"{expect}: expectations must be a map of state machine names")
        missing = sorted(set(by_name) - set(config.state_machines))
        if missing:
            raise _usage(f"{mock_config} has no test cases for {', '.join(missing)}")
        results = run_cases(
            config,
            by_name,
            expectations=expectations,
            functions=functions,
            seed=seed,
            default_input=default_input,
        )
    except (
        DefinitionError, FunctionsFileError, MockConfigError, SettingsFileError, ValueError
    ) as exc:  # fmt: skip
        raise _usage(str(exc)) from None
    for result in results:
        _print(result)
    if junit_xml_file is not None:
        junit_xml_file.write_text(junit_xml(results), encoding="utf-8")
    passed = sum(result.passed for result in results)
    if any(result.expected for result in results):
        typer.echo(f"{passed} of {len(results)} test cases passed")
    else:
        typer.echo(f"{len(results)} test cases run (nothing to check them against: --expect)")
    raise typer.Exit(EXIT_OK if passed == len(results) else EXIT_FAILED)


def _print(result: CaseResult) -> None:
    execution = result.execution
    verdict = "" if not result.expected else ("  ok" if result.passed else "  FAIL")
    typer.echo(printable(f"{result.machine}/{result.test_case}: {execution.status}{verdict}"))
    typer.echo(printable(f"  path: {' -> '.join(execution.path)}"))
    if execution.status == "SUCCEEDED":
        typer.echo(printable(f"  output: {json.dumps(execution.output)}"))
    else:
        typer.echo(printable(f"  error: {execution.error}: {execution.cause}"))
    if result.problem is not None:
        for line in result.problem.splitlines():
            typer.echo(printable(f"  | {line}"))
