"""``asl validate``: check definitions and report every problem with its location."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

import asl
from asl.diagnostics import Diagnostic, has_errors, validation_response
from asl.loader import DefinitionTooLarge, SubstitutionError
from runtime.cli.options import (
    EXIT_FAILED,
    EXIT_USAGE,
    OutputFormat,
    SubstituteOption,
    SubstitutionsOption,
    printable,
    substitutions,
)


class MachineType(StrEnum):
    """The state machine type, which changes what is valid."""

    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


class Severity(StrEnum):
    """The lowest severity reported."""

    ERROR = "ERROR"
    WARNING = "WARNING"


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
    substitute: SubstituteOption = None,
    substitutions_file: SubstitutionsOption = None,
) -> None:
    """Check definitions and report every problem with its location.

    ${NAME} placeholders are filled from --substitute and --substitutions first; one left
    without a value is checked as any valid value of its field, and named in a warning.

    Exit status: 0 when all are valid, 1 when any is invalid, 2 when a file cannot be read
    or is longer than AWS validates (ValidationException: over 1,048,576 characters).
    """
    values = substitutions(substitute, substitutions_file, command="asl validate")
    results: dict[str, list[Diagnostic]] = {}
    unreadable = False
    for path in files:
        try:
            diagnostics = asl.validate(path, machine_type=machine_type.value, substitutions=values)
        except (FileNotFoundError, SubstitutionError) as exc:
            typer.echo(f"asl validate: {printable(str(exc))}", err=True)
            unreadable = True
            continue
        except DefinitionTooLarge as exc:
            typer.echo(f"asl validate: {path}: {exc.code}: {exc}", err=True)
            unreadable = True
            continue
        if severity is Severity.ERROR:
            diagnostics = [d for d in diagnostics if d.severity == "ERROR"]
        results[str(path)] = diagnostics
    if output_format is OutputFormat.json:
        responses = {
            name: validation_response(diags, positions=True) for name, diags in results.items()
        }
        if responses:
            shown: Any = next(iter(responses.values())) if len(files) == 1 else responses
            typer.echo(json.dumps(shown, indent=2))
    else:
        for name, diagnostics in results.items():
            for d in diagnostics:
                typer.echo(printable(d.format(name)))
            if not has_errors(diagnostics):
                typer.echo(f"{name}: OK")
    if unreadable:
        raise typer.Exit(EXIT_USAGE)
    if any(has_errors(d) for d in results.values()):
        raise typer.Exit(EXIT_FAILED)
