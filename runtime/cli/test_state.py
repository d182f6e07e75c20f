"""``asl test-state``: one state run as AWS's TestState runs it; prints TestState's
response as JSON, as ``aws stepfunctions test-state`` prints it (``output`` and the
inspection data as JSON text).

Exit status, for CI: 0 when the state ran and its error, if any, stays inside it
(SUCCEEDED, CAUGHT_ERROR, RETRIABLE: a workflow would go on), 1 when it FAILED (the
error leaves the state), or, with ``--expect-status``, 0 exactly when the status is the
one expected and 1 otherwise; 2 for a request AWS refuses (ValidationException,
InvalidDefinition, InvalidExecutionInput) and unreadable files.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ConnectionsOption,
    FunctionsOption,
    ResourcesOption,
    json_option,
    printable,
    text_or_file,
)

_COMMAND = "asl test-state"


class InspectionLevel(StrEnum):
    """TestState's ``inspectionLevel``."""

    INFO = "INFO"
    DEBUG = "DEBUG"
    TRACE = "TRACE"


class Status(StrEnum):
    """TestState's ``status``."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETRIABLE = "RETRIABLE"
    CAUGHT_ERROR = "CAUGHT_ERROR"


def _usage(message: str) -> typer.Exit:
    typer.echo(printable(f"{_COMMAND}: {message}"), err=True)
    return typer.Exit(EXIT_USAGE)


def _json_object(value: str | None, what: str) -> dict[str, Any] | None:
    """An option holding a JSON object (text, or ``@file``)."""
    if value is None:
        return None
    parsed = json_option(value, command=_COMMAND, what=what)
    if not isinstance(parsed, dict):
        raise _usage(f"--{what} must be a JSON object")
    return parsed


def _text(value: str | None, what: str) -> str | None:
    return None if value is None else text_or_file(value, command=_COMMAND, what=what)


def test_state(
    definition: Annotated[
        Path, typer.Argument(help="One state's definition, or a whole machine's with --state-name.")
    ],
    input: Annotated[str | None, typer.Option(help="The state's input: JSON, or @file.")] = None,
    state_name: Annotated[
        str | None, typer.Option(help="The state of a whole machine's definition to test.")
    ] = None,
    mock: Annotated[
        str | None,
        typer.Option(
            help='TestState\'s mock, JSON or @file: {"result": "<JSON text>"} or '
            '{"errorOutput": {"error": ..., "cause": ...}}, with "fieldValidationMode".'
        ),
    ] = None,
    inspection_level: Annotated[
        InspectionLevel, typer.Option(help="INFO, DEBUG (data flow steps) or TRACE.")
    ] = InspectionLevel.INFO,
    reveal_secrets: Annotated[
        bool, typer.Option(help="TestState's revealSecrets (refused with a mock, as by AWS).")
    ] = False,
    context: Annotated[
        str | None, typer.Option(help="The context object (with --mock only): JSON or @file.")
    ] = None,
    variables: Annotated[
        str | None, typer.Option(help="Variables the state reads: a JSON object or @file.")
    ] = None,
    state_configuration: Annotated[
        str | None,
        typer.Option(
            help="TestState's stateConfiguration, JSON or @file: retrierRetryCount, "
            "errorCausedByState, mapIterationFailureCount, mapItemReaderData."
        ),
    ] = None,
    expect_status: Annotated[
        Status | None,
        typer.Option(help="Exit 0 only when the status is this one (1 otherwise)."),
    ] = None,
    functions: FunctionsOption = None,
    connections: ConnectionsOption = None,
    resources: ResourcesOption = None,
) -> None:
    """Run one state as AWS's TestState API does and print its response as JSON."""
    try:
        text = definition.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _usage(f"cannot read the definition {definition}: {exc}") from None
    body: dict[str, Any] = {
        "definition": text,
        "input": _text(input, "input"),
        "stateName": state_name,
        "mock": _json_object(mock, "mock"),
        "inspectionLevel": inspection_level.value,
        "revealSecrets": reveal_secrets,
        "context": _text(context, "context"),
        "variables": _text(variables, "variables"),
        "stateConfiguration": _json_object(state_configuration, "state-configuration"),
    }
    response = _answer(
        {k: v for k, v in body.items() if v is not None}, functions, connections, resources
    )
    typer.echo(json.dumps(response, indent=2))
    status = response["status"]
    if expect_status is not None:
        raise typer.Exit(EXIT_OK if status == expect_status.value else EXIT_FAILED)
    raise typer.Exit(EXIT_FAILED if status == "FAILED" else EXIT_OK)


test_state.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect


def _answer(
    body: dict[str, Any], functions: Path | None, connections: Path | None, resources: Path | None
) -> dict[str, Any]:
    # Imported here, as the engine is by every command that runs one: `asl --help` and
    # the other commands need none of it.
    import asyncio

    from integrations.functions_file import FunctionsFileError
    from integrations.settings_file import SettingsFileError
    from runtime.service.test_state import answer
    from runtime.store import ApiError
    from runtime.testing import local_engine

    try:
        engine = local_engine(functions=functions, connections=connections, resources=resources)
    except (FunctionsFileError, SettingsFileError, ValueError) as exc:
        raise _usage(str(exc)) from None

    async def main() -> dict[str, Any]:
        try:
            return await answer(body, engine)
        finally:
            await engine.aclose()

    try:
        return asyncio.run(main())
    except ApiError as exc:
        raise _usage(str(exc)) from None  # "Code: message"
